// Starts and stops a throwaway redis-server on a free loopback port (multi-node tests).
// Persistence is off (--save '' --appendonly no): nothing is written to disk.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { freePort } from './server.js';

export const REDIS_BIN = process.env.REDIS_SERVER_BIN || '/usr/bin/redis-server';
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;

const live = new Set();
process.on('exit', () => { for (const p of live) { try { p.kill('SIGKILL'); } catch { /* gone */ } } });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One raw RESP PING over TCP; resolves true on +PONG, false on anything else. */
export function ping(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    let buf = '';
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = (v) => { sock.destroy(); clearTimeout(timer); resolve(v); };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d;
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
    sock.on('error', () => done(false));
  });
}

export class RedisServer {
  constructor() {
    this.proc = null;
    this.exit = null;
    this.output = '';
  }

  get url() { return `redis://127.0.0.1:${this.port}`; }

  /** Starts the server; with samePort, on the port it had (a restart, empty). */
  async start({ samePort = false } = {}) {
    for (let attempt = 1; ; attempt++) {
      if (!samePort || !this.port) this.port = await freePort();
      this.output = '';
      this.exit = null;
      const proc = spawn(REDIS_BIN, [
        '--port', String(this.port), '--bind', '127.0.0.1',
        '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning',
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      this.proc = proc;
      live.add(proc);
      this.exited = new Promise((resolve) => {
        proc.on('exit', (code, signal) => { live.delete(proc); this.exit = { code, signal }; resolve(this.exit); });
        proc.on('error', (err) => { live.delete(proc); this.exit = { code: null, signal: null, error: err }; this.output += `\n[spawn error] ${err.message}`; resolve(this.exit); });
      });
      for (const s of [proc.stdout, proc.stderr]) {
        s.setEncoding('utf8');
        s.on('data', (d) => { this.output = (this.output + d).slice(-16_384); });
      }
      const deadline = Date.now() + READY_TIMEOUT_MS;
      while (Date.now() < deadline && !this.exit) {
        if (await ping(this.port)) return this;
        await sleep(50);
      }
      const clash = /address already in use/i.test(this.output);
      if (!this.exit) { proc.kill('SIGKILL'); await this.exited; }
      if (clash && attempt < 3 && !samePort) continue;
      throw new Error(`redis-server did not answer PING on port ${this.port} (exit ${JSON.stringify(this.exit)}):\n${this.output}`);
    }
  }

  /** SIGSTOP: connections stay open, nothing answers (a hung Redis). */
  freeze() { this.proc.kill('SIGSTOP'); }

  /** SIGCONT after freeze. */
  thaw() { this.proc.kill('SIGCONT'); }

  async stop() {
    if (!this.proc || this.exit) return this.exit;
    this.proc.kill('SIGCONT'); // a frozen server cannot act on SIGTERM
    this.proc.kill('SIGTERM');
    let handle;
    const timer = new Promise((r) => { handle = setTimeout(() => r('timeout'), STOP_TIMEOUT_MS); });
    const res = await Promise.race([this.exited, timer]);
    clearTimeout(handle); // a pending timer would keep the test process alive 10 s after its last test
    if (res === 'timeout') {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
    return this.exit;
  }
}

/** Starts redis-server on a free port and waits until it answers PING. */
export async function startRedis() {
  return new RedisServer().start();
}
