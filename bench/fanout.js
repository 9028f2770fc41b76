// Load generator of the fanout scenario of scripts/bench.sh: a separate process driving a
// room fan-out server (bench/node-fanout-server.js, or Parley's bench/fanout) with the
// official socket.io-client v4, websocket only.
//
// Contract of the server: every socket joins room `r` on connection; each `m` event it
// receives is broadcast with the same payload to `r`, sender included.
//
// Shape: CLIENTS clients. INFLIGHT broadcasts are kept in flight: each is an `m` event
// {id, pad} of about BYTES bytes of JSON sent by one client (rotating over the clients);
// it is complete when every client (its sender too) has received it, and then a new one
// leaves. A broadcast not complete after --broadcast-timeout-ms counts as lost and is
// replaced, so a server that drops deliveries cannot stall the run. Deliveries (`m` events
// received) and completions that happen inside the measured window count; completion
// time is emit -> last client's receipt.
//
// With --pid it samples that process's CPU time (utime+stime from /proc/<pid>/stat) at the
// edges of the measured window and resets its peak RSS (VmHWM) when the window starts.
// Prints one JSON object on stdout.
'use strict';

const { parseArgs } = require('node:util');
const L = require('./lib');

const TAG = 'fanout.js';
const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    target: { type: 'string', default: 'node-fanout' },
    clients: { type: 'string', default: '200' },
    inflight: { type: 'string', default: '16' },
    bytes: { type: 'string', default: '150' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    pid: { type: 'string' },
    'clk-tck': { type: 'string', default: '100' },
    'broadcast-timeout-ms': { type: 'string', default: '10000' },
  },
});

const URL_ = args.url;
if (!URL_) L.die(TAG, '--url is required');
const TARGET = args.target;
const CLIENTS = L.intArg(TAG, args, 'clients');
const INFLIGHT = L.intArg(TAG, args, 'inflight');
const BYTES = L.intArg(TAG, args, 'bytes', 20);
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const PID = args.pid ? Number(args.pid) : null;
const CLK_TCK = Number(args['clk-tck']);
const BCAST_TIMEOUT = L.intArg(TAG, args, 'broadcast-timeout-ms');
if (!(SECONDS > 0) || !(WARMUP >= 0)) L.die(TAG, '--seconds must be > 0 and --warmup >= 0');
const log = L.makeLog(`fanout ${TARGET}`);
const SETUP_DEADLINE_MS = 60_000;

let phase = 'setup'; // setup | warmup | measure | drain
let deliveries = 0; // inside the window
let deliveriesTotal = 0;
let completed = 0; // inside the window
let completedTotal = 0;
let lost = 0; // timed out inside the window
let lostTotal = 0;
let duplicates = 0;
let strays = 0; // deliveries of unknown ids (late copies of lost broadcasts, or garbage)
let disconnects = 0;
let badPayloads = 0;
const latencies = [];
const pending = new Map(); // id -> { t0, seen: Uint8Array, remaining }
let nextId = 0;
let nextSender = 0;
let sockets = [];

function payloadFor(id) {
  const base = JSON.stringify({ id, pad: '' }).length;
  return { id, pad: 'x'.repeat(Math.max(0, BYTES - base)) };
}

function sendOne() {
  const id = `b${nextId++}`;
  const socket = sockets[nextSender];
  nextSender = (nextSender + 1) % sockets.length;
  pending.set(id, { t0: performance.now(), seen: new Uint8Array(CLIENTS), remaining: CLIENTS });
  socket.emit('m', payloadFor(id));
}

function pump() {
  while ((phase === 'warmup' || phase === 'measure') && pending.size < INFLIGHT) sendOne();
}

function onDelivery(i, p) {
  deliveriesTotal++;
  if (phase === 'measure') deliveries++;
  const id = p?.id;
  if (typeof id !== 'string' || typeof p.pad !== 'string') {
    badPayloads++;
    return;
  }
  const b = pending.get(id);
  if (!b) {
    strays++;
    return;
  }
  if (b.seen[i]) {
    duplicates++;
    return;
  }
  b.seen[i] = 1;
  if (--b.remaining === 0) {
    pending.delete(id);
    completedTotal++;
    if (phase === 'measure') {
      completed++;
      latencies.push(performance.now() - b.t0);
    }
    pump();
  }
}

function sweep() {
  const now = performance.now();
  let swept = 0;
  for (const [id, b] of pending) {
    if (now - b.t0 > BCAST_TIMEOUT) {
      pending.delete(id);
      lostTotal++;
      if (phase === 'measure') lost++;
      swept++;
    }
  }
  if (swept) {
    log(`${swept} broadcast(s) not received by every client within ${BCAST_TIMEOUT} ms`);
    pump();
  }
}

async function main() {
  const setupTimer = setTimeout(() => L.die(TAG, `setup did not finish within ${SETUP_DEADLINE_MS / 1000} s`), SETUP_DEADLINE_MS);
  const t0 = Date.now();
  const idx = Array.from({ length: CLIENTS }, (_, i) => i);
  sockets = await L.pool(idx, 20, () => L.connect(URL_, {}));
  sockets.forEach((s, i) => {
    s.on('m', (p) => onDelivery(i, p));
    s.on('disconnect', (reason) => {
      if (phase !== 'drain') {
        disconnects++;
        log(`a client disconnected during the run: ${reason}`);
      }
    });
  });
  // A probe broadcast every client must receive proves the room is complete.
  pending.set('probe', { t0: performance.now(), seen: new Uint8Array(CLIENTS), remaining: CLIENTS });
  sockets[0].emit('m', payloadFor('probe'));
  const probeDeadline = Date.now() + 15_000;
  while (pending.has('probe')) {
    if (Date.now() > probeDeadline) {
      L.die(TAG, `a probe broadcast did not reach ${pending.get('probe').remaining} of ${CLIENTS} clients in 15 s: ` +
        'does the server join every socket to room r and broadcast each m event to r, sender included?');
    }
    await L.sleep(5);
  }
  completedTotal = 0;
  clearTimeout(setupTimer);
  log(`setup done in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${CLIENTS} clients in room r, ${INFLIGHT} broadcasts in flight, ` +
    `${JSON.stringify(payloadFor('b0')).length}-byte payloads`);

  const sweeper = setInterval(sweep, 250);
  phase = 'warmup';
  pump();
  await L.sleep(WARMUP * 1000);
  const hwmSetupKiB = PID ? L.resetPeakRss(PID, log) : null;
  const cpu = L.cpuWindow(PID, CLK_TCK);
  cpu.start();
  phase = 'measure';
  await L.sleep(SECONDS * 1000);
  phase = 'drain';
  const w = cpu.stop();

  // Let the in-flight broadcasts land (bounded), then close.
  const drainDeadline = Date.now() + 5000;
  while (pending.size > 0 && Date.now() < drainDeadline) await L.sleep(10);
  clearInterval(sweeper);
  const leftInFlight = pending.size;
  for (const s of sockets) s.close();

  latencies.sort((a, b) => a - b);
  const out = {
    scenario: 'fanout',
    target: TARGET,
    clients: CLIENTS,
    inflight: INFLIGHT,
    payloadBytes: JSON.stringify(payloadFor('b1000')).length,
    warmupSec: WARMUP,
    ...L.cpuFigures(w),
    broadcasts: completed,
    deliveries,
    broadcastsPerSec: L.round(completed / w.secs, 0),
    deliveriesPerSec: L.round(deliveries / w.secs, 0),
    deliveriesPerServerCpuSec: w.serverCpuSec ? L.round(deliveries / w.serverCpuSec, 0) : null,
    completionP50Ms: L.round(L.percentile(latencies, 50)),
    completionP99Ms: L.round(L.percentile(latencies, 99)),
    completionMaxMs: L.round(latencies[latencies.length - 1]),
    lost,
    duplicates,
    strays,
    badPayloads,
    disconnects,
    leftInFlight,
    hwmSetupKiB,
    totals: { broadcasts: completedTotal, lost: lostTotal, deliveries: deliveriesTotal },
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  const bad = lostTotal + duplicates + badPayloads + disconnects > 0;
  setTimeout(() => process.exit(bad ? 1 : 0), 100);
}

main().catch((e) => {
  log(`failed: ${e.stack || e.message}`);
  process.exit(1);
});
