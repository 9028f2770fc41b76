// Starts and stops lib/node-peer.js (a Node.js socket.io 4.8 node on the classic
// @socket.io/redis-adapter) as a child process on a free loopback port, and drives its
// control endpoints. A NodePeer can be passed to connect() like a ParleyServer.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { COMPAT_DIR } from './binary.js';
import { freePort } from './server.js';

const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_KEEP = 16 * 1024;

const live = new Set();
process.on('exit', () => { for (const p of live) { try { p.kill('SIGKILL'); } catch { /* gone */ } } });

export class NodePeer {
  constructor() {
    this.clients = new Set(); // socket.io clients opened against this node (closed on stop)
    this.output = '';
    this.proc = null;
    this.exit = null;
  }

  async start(redisUrl) {
    for (let attempt = 1; ; attempt++) {
      this.port = await freePort();
      this.url = `http://127.0.0.1:${this.port}`;
      this.output = '';
      this.exit = null;
      const proc = spawn(process.execPath, [path.join(COMPAT_DIR, 'lib', 'node-peer.js')], {
        cwd: COMPAT_DIR,
        env: { PATH: process.env.PATH, PORT: String(this.port), REDIS_URL: redisUrl, DEBUG: process.env.PEER_DEBUG ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      this.proc = proc;
      live.add(proc);
      let onReady;
      const ready = new Promise((r) => { onReady = r; });
      this.exited = new Promise((resolve) => {
        proc.on('exit', (code, signal) => { live.delete(proc); this.exit = { code, signal }; resolve(this.exit); onReady(false); });
        proc.on('error', (err) => { live.delete(proc); this.exit = { code: null, signal: null, error: err }; this.output += `\n[spawn error] ${err.message}`; resolve(this.exit); onReady(false); });
      });
      for (const s of [proc.stdout, proc.stderr]) {
        s.setEncoding('utf8');
        s.on('data', (d) => {
          this.output = (this.output + d).slice(-OUTPUT_KEEP);
          if (this.output.includes(`ready ${this.port}\n`)) onReady(true);
        });
      }
      let timer;
      const timeout = new Promise((r) => { timer = setTimeout(() => r('timeout'), READY_TIMEOUT_MS); });
      const res = await Promise.race([ready, timeout]);
      clearTimeout(timer);
      if (res === true) return this;
      if (!this.exit) { proc.kill('SIGKILL'); await this.exited; }
      if (/EADDRINUSE/.test(this.output) && attempt < 3) continue; // the free port was taken meanwhile
      throw new Error(`node peer not ready within ${READY_TIMEOUT_MS} ms (exit ${JSON.stringify(this.exit)}):\n${this.output}`);
    }
  }

  async call(method, route, body) {
    const res = await fetch(this.url + route, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const json = await res.json();
    if (res.status !== 200) throw new Error(`node peer ${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  /** io.to(to)[.except(except)].emit(event, payload) on the Node node; `to` [] is every socket. */
  emit(to, event, payload, except) { return this.call('POST', '/emit', { to, except, event, payload }); }

  /** io.in(room).socketsJoin(rooms). */
  socketsJoin(room, rooms) { return this.call('POST', '/join', { in: room, rooms }); }

  /** io.in(room).socketsLeave(rooms). */
  socketsLeave(room, rooms) { return this.call('POST', '/leave', { in: room, rooms }); }

  /** This node's own sockets: [{ id, userId, rooms }]. */
  async localSockets() { return (await this.call('GET', '/local')).sockets; }

  /** io.in(room).fetchSockets() across the cluster: [{ id, rooms }]. */
  async fetchSockets(room) { return (await this.call('POST', '/fetch', { in: room })).sockets; }

  closeClients() {
    for (const c of this.clients) c.close();
    this.clients.clear();
  }

  /** SIGTERM by pid, then waits for the exit (SIGKILL after a deadline). */
  async stop() {
    this.closeClients();
    if (!this.proc || this.exit) return this.exit;
    this.proc.kill('SIGTERM');
    let timer;
    const timeout = new Promise((r) => { timer = setTimeout(() => r('timeout'), STOP_TIMEOUT_MS); });
    const res = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (res === 'timeout') {
      this.proc.kill('SIGKILL');
      await this.exited;
      throw new Error(`node peer did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM:\n${this.output}`);
    }
    return res;
  }
}

/** Starts lib/node-peer.js against `redisUrl` and waits for its `ready` line. */
export async function startNodePeer({ redisUrl }) {
  return new NodePeer().start(redisUrl);
}

/** Stops a peer and requires a clean exit (code 0). For after() hooks. */
export async function stopNodePeer(peer) {
  if (!peer) return;
  const res = await peer.stop();
  if (res && res.code !== 0) throw new Error(`node peer exited with ${JSON.stringify(res)}:\n${peer.output}`);
}

/** Polls `probe` until it returns a truthy value; rejects with `what` (a string, or a possibly async function) after `ms`. */
export async function waitUntil(probe, what, ms = 5000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`${typeof what === 'function' ? await what() : what} (not within ${ms} ms)`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
