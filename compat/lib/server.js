// Starts and stops real Parley server processes on free loopback ports.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parleyBinary } from './binary.js';

export const TEST_JWT_SECRET = 'parley-compat-fixed-test-secret-4f1d9c2b7a6e';
export const MONGO_URI = process.env.PARLEY_TEST_MONGODB_URI || '';
export const mongoMode = MONGO_URI !== '';

const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 15_000;
const STDERR_KEEP = 64 * 1024;
// Variables passed through from the caller's environment; everything Parley reads is set
// explicitly per server, so a developer's own PORT or MONGODB_URI never leaks in.
const PASSTHROUGH = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'GOCOVERDIR', 'GOGC', 'GOMAXPROCS', 'GOMEMLIMIT', 'GODEBUG'];

let dbCounter = 0;
const live = new Set();
process.on('exit', () => { for (const p of live) { try { p.kill('SIGKILL'); } catch { /* gone */ } } });

export async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A running Parley process.
 *   url, port, dataDir, dbPath (SQLite mode), mongoDb (Mongo mode), env (what it was started with)
 *   stop({ signal, closeClients }) -> { code, signal } once the process has exited
 */
export class ParleyServer {
  constructor(opts) {
    this.opts = opts;
    this.clients = new Set(); // socket.io clients opened against this server (closed on stop)
    this.stderrBuf = '';
    this.stdoutBuf = '';
    this.proc = null;
    this.exit = null; // { code, signal } once exited
  }

  stderr() { return this.stderrBuf; }

  get alive() { return this.proc !== null && this.exit === null; }

  async start() {
    const o = this.opts;
    for (let attempt = 1; ; attempt++) {
      this.port = await freePort();
      this.url = `http://127.0.0.1:${this.port}`;
      const env = {};
      for (const k of PASSTHROUGH) if (process.env[k] !== undefined) env[k] = process.env[k];
      env.PORT = String(this.port);
      env.HOST = '127.0.0.1';
      env.LOG_LEVEL = 'warn';
      // Every test registers its users from 127.0.0.1: lift the per-address registration
      // limit (auth-limits.test.js sets it back to test it).
      env.AUTH_REGISTER_BURST = '1000000';
      if (mongoMode) {
        env.MONGODB_URI = MONGO_URI;
        env.MONGODB_DB = this.mongoDb;
        // JWT_SECRET is required with MongoDB, so it stays set even where a test asks
        // for the generated secret (those tests skip themselves in Mongo mode).
        env.JWT_SECRET = o.jwtSecret ?? TEST_JWT_SECRET;
      } else {
        env.SQLITE_PATH = this.dbPath;
        if (o.jwtSecret !== null) env.JWT_SECRET = o.jwtSecret ?? TEST_JWT_SECRET;
      }
      for (const [k, v] of Object.entries(o.env ?? {})) {
        if (v === undefined || v === null) delete env[k];
        else env[k] = String(v);
      }
      this.env = env;
      this.stderrBuf = '';
      this.stdoutBuf = '';
      this.exit = null;
      const proc = spawn(o.bin, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      this.proc = proc;
      live.add(proc);
      this.exited = new Promise((resolve) => {
        proc.on('exit', (code, signal) => {
          live.delete(proc);
          this.exit = { code, signal };
          resolve(this.exit);
        });
        proc.on('error', (err) => {
          live.delete(proc);
          this.stderrBuf += `\n[spawn error] ${err.message}`;
          this.exit = { code: null, signal: null, error: err };
          resolve(this.exit);
        });
      });
      proc.stderr.setEncoding('utf8');
      proc.stdout.setEncoding('utf8');
      proc.stderr.on('data', (d) => { this.stderrBuf = (this.stderrBuf + d).slice(-STDERR_KEEP); });
      proc.stdout.on('data', (d) => { this.stdoutBuf = (this.stdoutBuf + d).slice(-STDERR_KEEP); });
      try {
        await this.waitReady();
        return this;
      } catch (err) {
        const portClash = /address already in use/i.test(this.stderrBuf);
        if (this.alive) { proc.kill('SIGKILL'); await this.exited; }
        if (portClash && attempt < 3) continue; // another process took the free port first
        throw err;
      }
    }
  }

  async waitReady() {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last = 'no answer';
    while (Date.now() < deadline) {
      if (this.exit) {
        throw new Error(`parley exited during startup (${JSON.stringify(this.exit)}); stderr:\n${this.stderrBuf}\nstdout:\n${this.stdoutBuf}`);
      }
      try {
        const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(1000) });
        const body = await res.text();
        if (res.status === 200) return;
        last = `HTTP ${res.status} ${body}`;
      } catch (err) {
        last = err.cause?.code ?? err.message;
      }
      await sleep(100);
    }
    throw new Error(`parley not ready within ${READY_TIMEOUT_MS} ms (last /readyz: ${last}); stderr:\n${this.stderrBuf}\nstdout:\n${this.stdoutBuf}`);
  }

  closeClients() {
    for (const c of this.clients) c.close();
    this.clients.clear();
  }

  /** Sends `signal` (SIGTERM by default) and waits for the exit; SIGKILL after a deadline. */
  async stop({ signal = 'SIGTERM', closeClients = true } = {}) {
    if (closeClients) this.closeClients();
    if (!this.proc) return null;
    if (this.exit) return this.exit;
    this.stoppedWith = signal;
    this.proc.kill(signal);
    let handle;
    const timer = new Promise((r) => { handle = setTimeout(() => r('timeout'), STOP_TIMEOUT_MS); });
    const res = await Promise.race([this.exited, timer]);
    clearTimeout(handle);
    if (res === 'timeout') {
      this.proc.kill('SIGKILL');
      await this.exited;
      throw new Error(`parley did not exit within ${STOP_TIMEOUT_MS} ms of ${signal}; stderr:\n${this.stderrBuf}`);
    }
    return res;
  }

  /** Removes the data directory (SQLite mode). Call after stop. */
  cleanup() {
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/**
 * Starts a server and waits for GET /readyz = 200.
 * opts.env: extra variables (value null/undefined removes one)
 * opts.jwtSecret: null leaves JWT_SECRET unset (SQLite mode only)
 * opts.dataDir: reuse an existing data directory (restart tests); else a fresh temp dir
 * opts.mongoDb: reuse a Mongo database name; else a fresh one
 */
export async function startServer(opts = {}) {
  const s = new ParleyServer({ bin: parleyBinary(), ...opts });
  if (opts.dataDir) {
    s.dataDir = opts.dataDir;
    s.ownsDataDir = false;
  } else {
    s.dataDir = mkdtempSync(path.join(tmpdir(), 'parley-compat-'));
    s.ownsDataDir = true;
  }
  s.dbPath = path.join(s.dataDir, 'parley.db');
  s.mongoDb = opts.mongoDb ?? `compat_${process.pid}_${++dbCounter}`;
  await s.start();
  return s;
}

/** Stops a server (SIGTERM), checks it exited cleanly, removes its data. For after() hooks. */
export async function stopServer(s) {
  if (!s) return;
  const res = await s.stop();
  s.cleanup();
  // A test that killed the server on purpose (SIGKILL) expects the signal as its exit.
  const killedOnPurpose = s.stoppedWith && s.stoppedWith !== 'SIGTERM' && res?.signal === s.stoppedWith;
  if (res && res.code !== 0 && !killedOnPurpose) {
    throw new Error(`parley exited with ${JSON.stringify(res)} on SIGTERM; stderr:\n${s.stderr()}`);
  }
}
