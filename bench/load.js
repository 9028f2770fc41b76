// Load generator for scripts/bench.sh: a separate process driving a Socket.IO chat server
// (Parley, or bench/node-server.js) with the official socket.io-client v4.
//
// Shape: ROOMS rooms x MEMBERS members, one websocket client per member. In each room the
// first SENDERS members send `message:new` with an ack, each keeping at most WINDOW sends
// in flight (a closed loop: a new send leaves when an ack comes back). Every member counts
// the `message:new` events it receives. After a warm-up the measured window runs for
// SECONDS; only acks and deliveries that arrive inside it count, and ack latency
// (emit -> ack) percentiles come from the acks inside it. Prints one JSON object on stdout.
//
// Against Parley (--target parley) it registers the users over HTTP (POST /auth/register)
// and creates each room with `chat:create {type:'group'}`, then waits until every member has
// `chat:new` (Parley joins them to the room before announcing it). Against the bare Node
// server (--target node) tokens and room names are arbitrary and sent in the handshake.
//
// With --pid it samples that process's CPU time (utime+stime from /proc/<pid>/stat) at the
// edges of the measured window, and resets its peak RSS (VmHWM, via /proc/<pid>/clear_refs)
// when the measured window starts, so the peak bench.sh reads afterwards is the peak under
// load, not the peak of setup (Parley hashes each registration's password with argon2id,
// 19 MiB apiece, and the Go runtime hands that memory back to the OS only gradually).
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const { parseArgs } = require('node:util');
const { io } = require('socket.io-client');

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    target: { type: 'string', default: 'parley' }, // parley | node
    rooms: { type: 'string', default: '10' },
    members: { type: 'string', default: '20' },
    senders: { type: 'string', default: '4' }, // senders per room
    window: { type: 'string', default: '2' }, // in-flight acked sends per sender
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    'text-bytes': { type: 'string', default: '64' },
    pid: { type: 'string' },
    'clk-tck': { type: 'string', default: '100' },
    'ack-timeout-ms': { type: 'string', default: '10000' },
  },
});

const URL_ = args.url;
if (!URL_) die('--url is required');
const TARGET = args.target;
if (TARGET !== 'parley' && TARGET !== 'node') die('--target must be parley or node');
const ROOMS = posInt('rooms');
const MEMBERS = posInt('members');
const SENDERS = posInt('senders');
const WINDOW = posInt('window');
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const TEXT_BYTES = posInt('text-bytes');
const PID = args.pid ? Number(args.pid) : null;
const CLK_TCK = Number(args['clk-tck']);
const ACK_TIMEOUT = posInt('ack-timeout-ms');
if (MEMBERS < 2) die('--members must be at least 2');
if (SENDERS > MEMBERS) die('--senders must not exceed --members');
if (TARGET === 'parley' && MEMBERS - 1 > 200) die('Parley groups take at most 200 other participants');
if (!(SECONDS > 0) || !(WARMUP >= 0)) die('--seconds must be > 0 and --warmup >= 0');

// Setup must not hang a benchmark: everything before the load has its own deadline.
const SETUP_DEADLINE_MS = 90_000;

function die(msg) {
  process.stderr.write(`load.js: ${msg}\n`);
  process.exit(2);
}
function posInt(name) {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < 1) die(`--${name} must be a positive integer, got ${args[name]}`);
  return n;
}
function log(msg) {
  process.stderr.write(`[load ${TARGET}] ${msg}\n`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------- /proc sampling ----------
function procCpuTicks(pid) {
  // Fields after the ")" of the comm: state is field 3; utime is 14, stime is 15.
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(rest[14 - 3]) + Number(rest[15 - 3]);
}
function machineTicks() {
  const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = cpu[3] + (cpu[4] || 0);
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  return { idle, total };
}
function resetPeakRss(pid) {
  try {
    const before = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return before ? Number(before) : null;
  } catch (e) {
    log(`could not reset VmHWM of ${pid} (${e.code ?? e.message}); peak RSS includes setup`);
    return null;
  }
}

// Parley's /metrics (Prometheus text): a few sums, to show GC and server-side handling time.
async function parleyMetrics() {
  try {
    const res = await fetch(new URL('/metrics', URL_), { signal: AbortSignal.timeout(3000) });
    const text = await res.text();
    const pick = (re) => {
      const m = re.exec(text);
      return m ? Number(m[1]) : null;
    };
    return {
      gcCycles: pick(/^go_gc_duration_seconds_count (\S+)$/m),
      gcPauseSec: pick(/^go_gc_duration_seconds_sum (\S+)$/m),
      handledCount: pick(/^parley_event_duration_seconds_count\{event="message:new"\} (\S+)$/m),
      handledSec: pick(/^parley_event_duration_seconds_sum\{event="message:new"\} (\S+)$/m),
      heapBytes: pick(/^go_memstats_heap_inuse_bytes (\S+)$/m),
      goroutines: pick(/^go_goroutines (\S+)$/m),
    };
  } catch (e) {
    log(`metrics unavailable: ${e.message}`);
    return null;
  }
}

// ---------- setup ----------
async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

async function register(handle) {
  const res = await fetch(new URL('/auth/register', URL_), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ handle, name: handle, password: 'bench-password-1' }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = await res.json().catch(() => null);
  if (res.status !== 201 || !body?.token) {
    throw new Error(`register ${handle}: HTTP ${res.status} ${JSON.stringify(body)}`);
  }
  return { token: body.token, userId: body.user.id };
}

function connect(auth) {
  return new Promise((resolve, reject) => {
    const socket = io(URL_, {
      auth,
      transports: ['websocket'],
      forceNew: true, // one connection per client, no multiplexing
      reconnection: false,
      timeout: 20_000,
    });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(new Error(`connect_error: ${err.message}`));
    });
  });
}

function emitAck(socket, event, payload, timeoutMs = 20_000) {
  return new Promise((resolve, reject) => {
    socket.timeout(timeoutMs).emit(event, payload, (err, res) => (err ? reject(new Error(`${event}: no ack`)) : resolve(res)));
  });
}

// ---------- state ----------
let phase = 'setup'; // setup | warmup | measure | drain
let deliveries = 0;
let deliveriesTotal = 0;
let acked = 0;
let ackedTotal = 0;
let sentTotal = 0;
let timeouts = 0;
const failures = {}; // code -> count
const latencies = [];
let inflightTotal = 0;

async function setup() {
  const run = Math.random().toString(36).slice(2, 8);
  const rooms = []; // { chatId, clients: [{socket, userId}] }
  if (TARGET === 'parley') {
    const specs = [];
    for (let r = 0; r < ROOMS; r++) for (let m = 0; m < MEMBERS; m++) specs.push({ r, m, handle: `b${run}_${r}_${m}` });
    const t0 = Date.now();
    // argon2id costs ~19 MiB and tens of ms per hash: keep concurrency at the core count.
    const creds = await pool(specs, Math.max(2, os.cpus().length), (s) => register(s.handle));
    log(`registered ${specs.length} users in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const sockets = await pool(creds, 20, (c) => connect({ token: c.token }));
    const chatNew = sockets.map(() => new Set());
    sockets.forEach((s, i) => s.on('chat:new', (p) => p?.chat?.id && chatNew[i].add(p.chat.id)));
    for (let r = 0; r < ROOMS; r++) {
      const idx = (m) => r * MEMBERS + m;
      const creator = sockets[idx(0)];
      const participantIds = [];
      for (let m = 1; m < MEMBERS; m++) participantIds.push(creds[idx(m)].userId);
      const res = await emitAck(creator, 'chat:create', { type: 'group', name: `bench ${r}`, participantIds });
      if (!res?.success) throw new Error(`chat:create: ${JSON.stringify(res)}`);
      const chatId = res.chat.id;
      const clients = [];
      for (let m = 0; m < MEMBERS; m++) clients.push({ socket: sockets[idx(m)], userId: creds[idx(m)].userId, i: idx(m) });
      rooms.push({ chatId, clients });
    }
    // Every member other than the creator must have chat:new (it is sent after the join).
    const deadline = Date.now() + 20_000;
    for (;;) {
      const missing = rooms.reduce((n, room) => n + room.clients.slice(1).filter((c) => !chatNew[c.i].has(room.chatId)).length, 0);
      if (missing === 0) break;
      if (Date.now() > deadline) throw new Error(`${missing} members never got chat:new`);
      await sleep(20);
    }
    sockets.forEach((s) => s.off('chat:new'));
  } else {
    const specs = [];
    for (let r = 0; r < ROOMS; r++) for (let m = 0; m < MEMBERS; m++) specs.push({ r, m });
    const sockets = await pool(specs, 20, (s) => connect({ token: `tok-${run}-${s.r}-${s.m}`, rooms: [`room-${s.r}`] }));
    for (let r = 0; r < ROOMS; r++) {
      rooms.push({
        chatId: `room-${r}`,
        clients: sockets.slice(r * MEMBERS, (r + 1) * MEMBERS).map((socket) => ({ socket })),
      });
    }
  }
  for (const room of rooms) {
    for (const c of room.clients) {
      c.socket.on('message:new', () => {
        deliveriesTotal++;
        if (phase === 'measure') deliveries++;
      });
      c.socket.on('disconnect', (reason) => {
        if (phase !== 'drain') log(`a client disconnected during the run: ${reason}`);
      });
    }
  }
  return rooms;
}

// ---------- load ----------
const pad = 'x'.repeat(TEXT_BYTES);
function startSender(socket, chatId, senderNo) {
  let inflight = 0;
  let n = 0;
  function sendOne() {
    inflight++;
    inflightTotal++;
    sentTotal++;
    n++;
    const text = `${senderNo}:${n} ${pad}`.slice(0, Math.max(TEXT_BYTES, 8));
    const t0 = performance.now();
    socket.timeout(ACK_TIMEOUT).emit('message:new', { chatId, text }, (err, res) => {
      const t1 = performance.now();
      inflight--;
      inflightTotal--;
      if (err) {
        timeouts++;
      } else if (!res?.success) {
        const code = res?.code ?? 'MALFORMED';
        failures[code] = (failures[code] ?? 0) + 1;
      } else {
        ackedTotal++;
        if (phase === 'measure') {
          acked++;
          latencies.push(t1 - t0);
        }
      }
      pump();
    });
  }
  function pump() {
    while ((phase === 'warmup' || phase === 'measure') && inflight < WINDOW) sendOne();
  }
  return pump;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
const round = (x, d = 2) => (x == null || !Number.isFinite(x) ? null : Number(x.toFixed(d)));

async function main() {
  const setupTimer = setTimeout(() => die(`setup did not finish within ${SETUP_DEADLINE_MS / 1000} s`), SETUP_DEADLINE_MS);
  const tSetup = Date.now();
  const rooms = await setup();
  clearTimeout(setupTimer);
  log(`setup done in ${((Date.now() - tSetup) / 1000).toFixed(1)} s: ${ROOMS} rooms x ${MEMBERS} members, ${SENDERS} sender(s)/room, window ${WINDOW}`);

  const pumps = [];
  rooms.forEach((room, r) => {
    for (let s = 0; s < SENDERS; s++) pumps.push(startSender(room.clients[s].socket, room.chatId, `${r}.${s}`));
  });
  phase = 'warmup';
  pumps.forEach((p) => p());
  await sleep(WARMUP * 1000);

  // Measured window.
  const m0 = TARGET === 'parley' ? await parleyMetrics() : null;
  const hwmSetupKiB = PID ? resetPeakRss(PID) : null;
  const cpu0 = PID ? procCpuTicks(PID) : null;
  const mach0 = machineTicks();
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  phase = 'measure';
  await sleep(SECONDS * 1000);
  phase = 'drain';
  const t1 = performance.now();
  const cpu1 = PID ? procCpuTicks(PID) : null;
  const mach1 = machineTicks();
  const self1 = process.cpuUsage(self0);
  const m1 = TARGET === 'parley' ? await parleyMetrics() : null;

  // Let the in-flight sends finish (bounded), then close.
  const drainDeadline = Date.now() + 10_000;
  while (inflightTotal > 0 && Date.now() < drainDeadline) await sleep(10);
  for (const room of rooms) for (const c of room.clients) c.socket.close();

  const secs = (t1 - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const serverCpuSec = PID ? (cpu1 - cpu0) / CLK_TCK : null;
  const machTotal = mach1.total - mach0.total;
  const ncpu = os.cpus().length;
  const out = {
    target: TARGET,
    rooms: ROOMS,
    members: MEMBERS,
    clients: ROOMS * MEMBERS,
    sendersPerRoom: SENDERS,
    windowPerSender: WINDOW,
    textBytes: TEXT_BYTES,
    warmupSec: WARMUP,
    measuredSec: round(secs, 3),
    acked,
    deliveries,
    msgsPerSec: round(acked / secs, 0),
    deliveriesPerSec: round(deliveries / secs, 0),
    deliveriesPerAck: round(deliveries / Math.max(1, acked), 2),
    expectedDeliveriesPerAck: MEMBERS - 1,
    ackP50Ms: round(percentile(latencies, 50)),
    ackP99Ms: round(percentile(latencies, 99)),
    ackMaxMs: round(latencies[latencies.length - 1]),
    serverCpuSec: round(serverCpuSec, 2),
    serverCpuCores: round(serverCpuSec / secs, 2),
    deliveriesPerServerCpuSec: serverCpuSec ? round(deliveries / serverCpuSec, 0) : null,
    loadgenCpuCores: round((self1.user + self1.system) / 1e6 / secs, 2),
    machineBusyCores: round(((machTotal - (mach1.idle - mach0.idle)) / machTotal) * ncpu, 2),
    machineCores: ncpu,
    hwmSetupKiB,
    totals: { sent: sentTotal, acked: ackedTotal, deliveries: deliveriesTotal, timeouts, failures },
  };
  if (m0 && m1) {
    const d = (k) => (m0[k] == null || m1[k] == null ? null : m1[k] - m0[k]);
    out.parley = {
      gcCyclesPerSec: round(d('gcCycles') / secs, 1),
      gcPauseMsTotal: round(d('gcPauseSec') * 1000, 1),
      meanHandleMs: d('handledCount') ? round((d('handledSec') / d('handledCount')) * 1000, 3) : null,
      heapInuseMiBEnd: m1.heapBytes == null ? null : round(m1.heapBytes / 1048576, 1),
      goroutinesEnd: m1.goroutines,
    };
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
  // Sockets are closed; do not wait on anything else.
  setTimeout(() => process.exit(timeouts > 0 || Object.keys(failures).length > 0 ? 1 : 0), 100);
}

main().catch((e) => {
  log(`failed: ${e.stack || e.message}`);
  process.exit(1);
});
