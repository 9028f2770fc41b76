// Load generator of the e2e and open scenarios of scripts/bench.sh: a separate process
// driving a Socket.IO chat server (Parley, bench/node-server.js or
// bench/node-sqlite-server.js) with the official socket.io-client v4, websocket only.
//
// Shape: ROOMS rooms x MEMBERS members, one client per member. SENDERS senders in total,
// spread round-robin over the rooms (sender k is member floor(k / ROOMS) of room
// k % ROOMS), send `message:new {chatId, text, clientId}` with an ack. Every member counts
// the `message:new` events it receives (the room's other members get each message).
//
//   --mode closed   (e2e) INFLIGHT acked sends in flight in total, split as evenly as possible
//                   over the senders; a sender sends again when an ack comes back. Acks and
//                   deliveries that arrive inside the measured window count; ack latency is
//                   emit -> ack.
//   --mode open     (open) a fixed offered rate of RATE sends/s in total, on a clock: send j
//                   is scheduled at start + j/RATE and leaves from sender j % SENDERS
//                   whatever the acks do. The sends SCHEDULED inside the measured window
//                   count; ack latency is measured from each send's scheduled time (not its
//                   emit time), so a server or load generator that falls behind shows it
//                   (no coordinated omission). The run waits for their acks (bounded by the
//                   ack timeout) before reporting.
//
// Against Parley (--target parley) each user is a distinct HS256 JWT signed here with the
// server's JWT_SECRET (env BENCH_JWT_SECRET; Parley creates the user on first connect), and
// each room is a group made with `chat:create`; the run waits until every member has
// `chat:new`. Against the Node servers tokens and room names are arbitrary and sent in the
// handshake (auth.rooms).
//
// With --pid it samples that process's CPU time (utime+stime from /proc/<pid>/stat) at the
// edges of the measured window and resets its peak RSS (VmHWM) when the window starts.
// Prints one JSON object on stdout.
'use strict';

const { parseArgs } = require('node:util');
const L = require('./lib');

const TAG = 'load.js';
const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    target: { type: 'string', default: 'parley' }, // parley | node | node-sqlite
    mode: { type: 'string', default: 'closed' }, // closed | open
    rooms: { type: 'string', default: '10' },
    members: { type: 'string', default: '20' },
    senders: { type: 'string', default: '16' }, // in total
    inflight: { type: 'string', default: '32' }, // closed: in total
    rate: { type: 'string', default: '1000' }, // open: sends/s in total
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    'text-bytes': { type: 'string', default: '100' },
    pid: { type: 'string' },
    'clk-tck': { type: 'string', default: '100' },
    'ack-timeout-ms': { type: 'string', default: '10000' },
  },
});

const URL_ = args.url;
if (!URL_) L.die(TAG, '--url is required');
const TARGET = args.target;
const PARLEY = TARGET === 'parley';
const MODE = args.mode;
if (MODE !== 'closed' && MODE !== 'open') L.die(TAG, '--mode must be closed or open');
const ROOMS = L.intArg(TAG, args, 'rooms');
const MEMBERS = L.intArg(TAG, args, 'members', 2);
const SENDERS = L.intArg(TAG, args, 'senders');
const INFLIGHT = L.intArg(TAG, args, 'inflight');
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const TEXT_BYTES = L.intArg(TAG, args, 'text-bytes', 8);
const PID = args.pid ? Number(args.pid) : null;
const CLK_TCK = Number(args['clk-tck']);
const ACK_TIMEOUT = L.intArg(TAG, args, 'ack-timeout-ms');
const SECRET = process.env.BENCH_JWT_SECRET;
if (Math.ceil(SENDERS / ROOMS) > MEMBERS) L.die(TAG, '--senders must not exceed rooms x members');
if (MODE === 'closed' && INFLIGHT < SENDERS) L.die(TAG, '--inflight must be at least --senders (every sender keeps >= 1 in flight)');
if (MODE === 'open' && !(RATE > 0)) L.die(TAG, '--rate must be > 0');
if (PARLEY && MEMBERS - 1 > 200) L.die(TAG, 'Parley groups take at most 200 other participants');
if (PARLEY && !SECRET) L.die(TAG, 'BENCH_JWT_SECRET (Parley JWT_SECRET) must be set for --target parley');
if (TEXT_BYTES > 4000) L.die(TAG, '--text-bytes must be at most 4000');
if (!(SECONDS > 0) || !(WARMUP >= 0)) L.die(TAG, '--seconds must be > 0 and --warmup >= 0');

const log = L.makeLog(`load ${TARGET} ${MODE}`);
// Setup must not hang a benchmark: everything before the load has its own deadline.
const SETUP_DEADLINE_MS = 90_000;

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
      at: performance.now(),
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

// ---------- state ----------
let phase = 'setup'; // setup | warmup | measure | drain
let deliveries = 0; // inside the measured window
let deliveriesTotal = 0;
let sentTotal = 0;
let ackedTotal = 0;
let inflightTotal = 0;
let disconnects = 0;
// Counted sends: closed loop, acks arriving in the window; open loop, sends scheduled in it.
const W = { offered: 0, acked: 0, timeouts: 0, failures: {}, latencies: [], lags: [], resolved: 0 };
// Successful acks arriving inside the measured window (both modes): the per-CPU-second figures.
let ackedInWindow = 0;

async function setup() {
  const run = Math.random().toString(36).slice(2, 8);
  const rooms = []; // { chatId, clients: [socket] }
  if (PARLEY) {
    const specs = [];
    for (let r = 0; r < ROOMS; r++) for (let m = 0; m < MEMBERS; m++) specs.push({ r, m, userId: L.randomId() });
    const t0 = Date.now();
    const sockets = await L.pool(specs, 20, (s) => L.connect(URL_, { token: L.signJwt(SECRET, s.userId, { name: `Bench ${s.r}.${s.m}` }) }));
    log(`connected ${sockets.length} JWT users in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const chatNew = sockets.map(() => new Set());
    sockets.forEach((s, i) => s.on('chat:new', (p) => p?.chat?.id && chatNew[i].add(p.chat.id)));
    for (let r = 0; r < ROOMS; r++) {
      const idx = (m) => r * MEMBERS + m;
      const participantIds = [];
      for (let m = 1; m < MEMBERS; m++) participantIds.push(specs[idx(m)].userId);
      const res = await L.emitAck(sockets[idx(0)], 'chat:create', { type: 'group', name: `bench ${r}`, participantIds });
      if (!res?.success) throw new Error(`chat:create: ${JSON.stringify(res)}`);
      rooms.push({ chatId: res.chat.id, clients: sockets.slice(r * MEMBERS, (r + 1) * MEMBERS), first: idx(0) });
    }
    // Every member other than the creator must have chat:new (it is sent after the join).
    const deadline = Date.now() + 20_000;
    for (;;) {
      let missing = 0;
      for (const room of rooms) {
        for (let m = 1; m < MEMBERS; m++) if (!chatNew[room.first + m].has(room.chatId)) missing++;
      }
      if (missing === 0) break;
      if (Date.now() > deadline) throw new Error(`${missing} members never got chat:new`);
      await L.sleep(20);
    }
    sockets.forEach((s) => s.off('chat:new'));
  } else {
    const specs = [];
    for (let r = 0; r < ROOMS; r++) for (let m = 0; m < MEMBERS; m++) specs.push({ r, m });
    const sockets = await L.pool(specs, 20, (s) => L.connect(URL_, { token: `tok-${run}-${s.r}-${s.m}`, rooms: [`room-${s.r}`] }));
    for (let r = 0; r < ROOMS; r++) rooms.push({ chatId: `room-${r}`, clients: sockets.slice(r * MEMBERS, (r + 1) * MEMBERS) });
  }
  for (const room of rooms) {
    for (const socket of room.clients) {
      socket.on('message:new', () => {
        deliveriesTotal++;
        if (phase === 'measure') deliveries++;
      });
      socket.on('disconnect', (reason) => {
        if (phase !== 'drain') {
          disconnects++;
          log(`a client disconnected during the run: ${reason}`);
        }
      });
    }
  }
  return { rooms, run };
}

// ---------- senders ----------
function makeSenders(rooms, run) {
  const pad = 'x'.repeat(TEXT_BYTES);
  const senders = [];
  for (let k = 0; k < SENDERS; k++) {
    const room = rooms[k % ROOMS];
    senders.push({ socket: room.clients[Math.floor(k / ROOMS)], chatId: room.chatId, no: k, n: 0, window: 0, inflight: 0 });
  }
  // Closed loop: INFLIGHT split as evenly as possible.
  senders.forEach((s, k) => {
    s.window = Math.floor(INFLIGHT / SENDERS) + (k < INFLIGHT % SENDERS ? 1 : 0);
  });
  // One send; `done(err, res, tAck)` runs once with the ack (or the timeout).
  function send(s, done) {
    s.n++;
    s.inflight++;
    inflightTotal++;
    sentTotal++;
    const text = `${s.no}:${s.n} ${pad}`.slice(0, TEXT_BYTES);
    const clientId = `${run}-${s.no}-${s.n}`;
    s.socket.timeout(ACK_TIMEOUT).emit('message:new', { chatId: s.chatId, text, clientId }, (err, res) => {
      const t = performance.now();
      s.inflight--;
      inflightTotal--;
      if (!err && res?.success) {
        ackedTotal++;
        if (phase === 'measure') ackedInWindow++;
      }
      done(err, res, t);
    });
  }
  return { senders, send };
}

// Records one counted outcome into W.
function record(err, res, latencyMs) {
  W.resolved++;
  if (err) {
    W.timeouts++;
  } else if (!res?.success) {
    const code = res?.code ?? 'MALFORMED';
    W.failures[code] = (W.failures[code] ?? 0) + 1;
  } else {
    W.acked++;
    W.latencies.push(latencyMs);
  }
}

function runClosed(senders, send) {
  function pump(s) {
    while ((phase === 'warmup' || phase === 'measure') && s.inflight < s.window) {
      const t0 = performance.now();
      send(s, (err, res, t1) => {
        // A closed loop counts what comes back inside the window.
        if (phase === 'measure') record(err, res, t1 - t0);
        pump(s);
      });
    }
  }
  return () => senders.forEach(pump);
}

// Open loop: returns { start(tStart, tEnd) } emitting send j at tStart + j * interval
// until tEnd; counted sends are those scheduled in [tm0, tEnd).
function runOpen(senders, send, tm0) {
  const interval = 1000 / RATE;
  let j = 0;
  let tStart = 0;
  let tEnd = 0;
  let timer = null;
  function tick() {
    timer = null;
    const now = performance.now();
    for (;;) {
      const sched = tStart + j * interval;
      if (sched >= tEnd || sched > now) break;
      const s = senders[j % senders.length];
      j++;
      const counted = sched >= tm0;
      if (counted) {
        W.offered++;
        W.lags.push(now - sched);
      }
      send(s, (err, res, tAck) => {
        if (counted) record(err, res, tAck - sched);
      });
    }
    const next = tStart + j * interval;
    if (next < tEnd) timer = setTimeout(tick, Math.max(1, Math.min(50, next - performance.now())));
  }
  return {
    start(t0, t1) {
      tStart = t0;
      tEnd = t1;
      tick();
    },
    done: () => timer === null,
  };
}

async function main() {
  const setupTimer = setTimeout(() => L.die(TAG, `setup did not finish within ${SETUP_DEADLINE_MS / 1000} s`), SETUP_DEADLINE_MS);
  const tSetup = Date.now();
  const { rooms, run } = await setup();
  clearTimeout(setupTimer);
  const { senders, send } = makeSenders(rooms, run);
  log(`setup done in ${((Date.now() - tSetup) / 1000).toFixed(1)} s: ${ROOMS} rooms x ${MEMBERS} members, ${SENDERS} senders, ` +
    (MODE === 'closed' ? `${INFLIGHT} in flight` : `${RATE} sends/s offered`));

  const cpu = L.cpuWindow(PID, CLK_TCK);
  let m0 = null;
  let hwmSetupKiB = null;
  let w;
  if (MODE === 'closed') {
    const start = runClosed(senders, send);
    phase = 'warmup';
    start();
    await L.sleep(WARMUP * 1000);
    m0 = PARLEY ? await parleyMetrics() : null;
    hwmSetupKiB = PID ? L.resetPeakRss(PID, log) : null;
    cpu.start();
    phase = 'measure';
    await L.sleep(SECONDS * 1000);
    phase = 'drain';
    w = cpu.stop();
  } else {
    const tBegin = performance.now() + 20;
    const tm0 = tBegin + WARMUP * 1000;
    const tm1 = tm0 + SECONDS * 1000;
    const sched = runOpen(senders, send, tm0);
    phase = 'warmup';
    sched.start(tBegin, tm1);
    // Parley's metrics a little before the window, off the path of the window's start: an
    // HTTP call to a loaded server can take a while.
    const metrics0 = PARLEY
      ? L.sleep(Math.max(0, tm0 - performance.now() - 500)).then(async () => { m0 = await parleyMetrics(); })
      : Promise.resolve();
    await L.sleep(Math.max(0, tm0 - performance.now()));
    hwmSetupKiB = PID ? L.resetPeakRss(PID, log) : null;
    cpu.start();
    phase = 'measure';
    await L.sleep(Math.max(0, tm1 - performance.now()));
    while (!sched.done()) await L.sleep(1);
    phase = 'drain';
    w = cpu.stop();
    await metrics0;
  }
  const m1 = PARLEY ? await parleyMetrics() : null;

  // Let the in-flight sends finish (bounded by the ack timeout), then close.
  const drainDeadline = Date.now() + ACK_TIMEOUT + 2000;
  while (inflightTotal > 0 && Date.now() < drainDeadline) await L.sleep(10);
  const unresolved = MODE === 'open' ? W.offered - W.resolved : 0;
  for (const room of rooms) for (const s of room.clients) s.close();

  const secs = w.secs;
  W.latencies.sort((a, b) => a - b);
  W.lags.sort((a, b) => a - b);
  const deliveriesPerMsg = MEMBERS - 1;
  const out = {
    scenario: MODE === 'closed' ? 'e2e' : 'open',
    target: TARGET,
    mode: MODE,
    rooms: ROOMS,
    members: MEMBERS,
    clients: ROOMS * MEMBERS,
    senders: SENDERS,
    inflight: MODE === 'closed' ? INFLIGHT : null,
    windowsPerSender: MODE === 'closed' ? [...new Set(senders.map((s) => s.window))] : null,
    rateOffered: MODE === 'open' ? RATE : null,
    textBytes: TEXT_BYTES,
    warmupSec: WARMUP,
    ...L.cpuFigures(w),
    offered: MODE === 'open' ? W.offered : null,
    acked: W.acked,
    ackedInWindow,
    deliveries,
    msgsPerSec: L.round(ackedInWindow / secs, 0),
    deliveriesPerSec: L.round(deliveries / secs, 0),
    ackedPerServerCpuSec: w.serverCpuSec ? L.round(ackedInWindow / w.serverCpuSec, 0) : null,
    deliveriesPerServerCpuSec: w.serverCpuSec ? L.round(deliveries / w.serverCpuSec, 0) : null,
    deliveriesPerAck: L.round(deliveries / Math.max(1, ackedInWindow), 2),
    expectedDeliveriesPerAck: deliveriesPerMsg,
    ackP50Ms: L.round(L.percentile(W.latencies, 50)),
    ackP99Ms: L.round(L.percentile(W.latencies, 99)),
    ackMaxMs: L.round(W.latencies[W.latencies.length - 1]),
    latencyFrom: MODE === 'closed' ? 'emit' : 'scheduled send time',
    sendLagP99Ms: MODE === 'open' ? L.round(L.percentile(W.lags, 99)) : null,
    sendLagMaxMs: MODE === 'open' ? L.round(W.lags[W.lags.length - 1]) : null,
    timeouts: W.timeouts,
    failures: W.failures,
    failed: W.timeouts + unresolved + Object.values(W.failures).reduce((a, b) => a + b, 0),
    unresolved,
    disconnects,
    hwmSetupKiB,
    totals: { sent: sentTotal, acked: ackedTotal, deliveries: deliveriesTotal },
  };
  if (m0 && m1) {
    const d = (k) => (m0[k] == null || m1[k] == null ? null : m1[k] - m0[k]);
    out.parley = {
      gcCyclesPerSec: L.round(d('gcCycles') / (d('at') / 1000), 1),
      gcPauseMsPerSec: L.round((d('gcPauseSec') * 1000) / (d('at') / 1000), 1),
      meanHandleMs: d('handledCount') ? L.round((d('handledSec') / d('handledCount')) * 1000, 3) : null,
      heapInuseMiBEnd: m1.heapBytes == null ? null : L.round(m1.heapBytes / 1048576, 1),
      goroutinesEnd: m1.goroutines,
    };
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
  // Sockets are closed; do not wait on anything else.
  setTimeout(() => process.exit(out.failed > 0 || disconnects > 0 ? 1 : 0), 100);
}

main().catch((e) => {
  log(`failed: ${e.stack || e.message}`);
  process.exit(1);
});
