// Starts, kills and restarts a throwaway FerretDB (the MongoDB-protocol test server, on its
// SQLite handler) on a loopback port with its own temp directory. Independent of the suite's
// mode: a test that needs a database it can take down starts its own.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './server.js';

export const FERRETDB_BIN = process.env.FERRETDB_BIN || '';

const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_KEEP = 16 * 1024;

const live = new Set();
process.on('exit', () => { for (const p of live) { try { p.kill('SIGKILL'); } catch { /* gone */ } } });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves true once a TCP connection to 127.0.0.1:port is accepted, false on refusal/timeout. */
export function tcpAccepts(port, timeoutMs = 500) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = (v) => { clearTimeout(timer); sock.destroy(); resolve(v); };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

export class FerretDB {
  constructor({ bin = FERRETDB_BIN } = {}) {
    this.bin = bin;
    this.dir = mkdtempSync(path.join(tmpdir(), 'parley-ferretdb-'));
    this.port = null;
    this.proc = null;
    this.exit = null;
    this.output = '';
  }

  /** mongodb:// URI of this server (no database in the path). */
  get uri() { return `mongodb://127.0.0.1:${this.port}/`; }

  get alive() { return this.proc !== null && this.exit === null; }

  /**
   * Starts the server and waits until its port accepts TCP connections. The first start
   * picks a free port; later starts (after kill/stop) reuse the same port and directory.
   */
  async start() {
    const fixedPort = this.port !== null;
    for (let attempt = 1; ; attempt++) {
      if (!fixedPort) this.port = await freePort();
      this.exit = null;
      const proc = spawn(this.bin, [
        '--handler=sqlite', `--sqlite-url=file:${this.dir}/`, `--listen-addr=127.0.0.1:${this.port}`,
        '--telemetry=disable', '--debug-addr=-', `--state-dir=${this.dir}`, '--log-level=error',
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      this.proc = proc;
      live.add(proc);
      this.exited = new Promise((resolve) => {
        proc.on('exit', (code, signal) => { live.delete(proc); this.exit = { code, signal }; resolve(this.exit); });
        proc.on('error', (err) => {
          live.delete(proc);
          this.output += `\n[spawn error] ${err.message}`;
          this.exit = { code: null, signal: null, error: err };
          resolve(this.exit);
        });
      });
      for (const s of [proc.stdout, proc.stderr]) {
        s.setEncoding('utf8');
        s.on('data', (d) => { this.output = (this.output + d).slice(-OUTPUT_KEEP); });
      }
      const deadline = Date.now() + READY_TIMEOUT_MS;
      while (Date.now() < deadline && !this.exit) {
        if (await tcpAccepts(this.port)) return this;
        await sleep(50);
      }
      const clash = /address already in use/i.test(this.output);
      if (!this.exit) { proc.kill('SIGKILL'); await this.exited; }
      if (clash && !fixedPort && attempt < 3) continue; // someone took the free port first
      throw new Error(`ferretdb did not accept connections on port ${this.port} within ${READY_TIMEOUT_MS} ms (exit ${JSON.stringify(this.exit)}):\n${this.output}`);
    }
  }

  /** Sends `signal` (SIGKILL by default: a crash) and resolves with the exit once it happened. */
  async kill(signal = 'SIGKILL') {
    if (!this.alive) return this.exit;
    this.proc.kill(signal);
    return this.exited;
  }

  /** SIGTERM, SIGKILL after a deadline; resolves once exited. */
  async stop() {
    if (!this.alive) return this.exit;
    this.proc.kill('SIGTERM');
    let handle;
    const timer = new Promise((r) => { handle = setTimeout(() => r('timeout'), STOP_TIMEOUT_MS); });
    const res = await Promise.race([this.exited, timer]);
    clearTimeout(handle);
    if (res === 'timeout') { this.proc.kill('SIGKILL'); return this.exited; }
    return res;
  }

  /** Removes the data directory. Call after stop. */
  cleanup() { rmSync(this.dir, { recursive: true, force: true }); }
}
