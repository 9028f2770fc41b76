// Load generator of the idle scenario of scripts/bench.sh: the memory one idle websocket
// connection costs a server (Parley, or bench/node-server.js).
//
// Reads the server's VmRSS (/proc/<pid>/status) after --settle seconds with no
// connection, opens CONNS websocket connections (official socket.io-client v4) in batches
// of BATCH (a batch's connections open concurrently; the next batch starts when it has
// settled), leaves them idle for --seconds, checks they are all still connected and reads
// VmRSS again. Reports (after - before) / N and after / N, N the connections open at the
// end, and the server CPU over the idle window (heartbeats only).
//
// Against Parley (--target parley) every connection is a distinct user: an HS256 JWT
// signed here with the server's JWT_SECRET (env BENCH_JWT_SECRET), sub a random 24-hex id,
// exp one hour ahead, passed as auth.token (Parley creates the user on first connect).
// Against Node any token (distinct per connection, too). Prints one JSON object on stdout.
'use strict';

const { parseArgs } = require('node:util');
const L = require('./lib');

const TAG = 'idle.js';
const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    target: { type: 'string', default: 'parley' },
    conns: { type: 'string', default: '5000' },
    batch: { type: 'string', default: '250' },
    settle: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '10' },
    pid: { type: 'string' },
    'clk-tck': { type: 'string', default: '100' },
    'connect-deadline-s': { type: 'string', default: '180' },
  },
});

const URL_ = args.url;
if (!URL_) L.die(TAG, '--url is required');
const TARGET = args.target;
const PARLEY = TARGET === 'parley';
const CONNS = L.intArg(TAG, args, 'conns');
const BATCH = L.intArg(TAG, args, 'batch');
const SETTLE = Number(args.settle);
const SECONDS = Number(args.seconds);
const PID = args.pid ? Number(args.pid) : null;
const CLK_TCK = Number(args['clk-tck']);
const DEADLINE_S = L.intArg(TAG, args, 'connect-deadline-s');
const SECRET = process.env.BENCH_JWT_SECRET;
if (!PID) L.die(TAG, '--pid is required (the server whose memory is measured)');
if (PARLEY && !SECRET) L.die(TAG, 'BENCH_JWT_SECRET (Parley JWT_SECRET) must be set for --target parley');
if (!(SECONDS >= 0) || !(SETTLE >= 0)) L.die(TAG, '--seconds and --settle must be >= 0');
const log = L.makeLog(`idle ${TARGET}`);

async function main() {
  await L.sleep(SETTLE * 1000);
  const rssBeforeKiB = L.procStatusKiB(PID, 'VmRSS');
  if (rssBeforeKiB == null) L.die(TAG, `cannot read /proc/${PID}/status`);

  const run = Math.random().toString(36).slice(2, 8);
  const auths = [];
  for (let i = 0; i < CONNS; i++) {
    auths.push(PARLEY ? { token: L.signJwt(SECRET, L.randomId()) } : { token: `idle-${run}-${i}` });
  }
  const sockets = [];
  let failedConnects = 0;
  let firstError = null;
  let disconnects = 0;
  let idle = false;
  let closing = false;
  const t0 = performance.now();
  const deadline = Date.now() + DEADLINE_S * 1000;
  for (let b = 0; b < CONNS && Date.now() < deadline; b += BATCH) {
    const batch = auths.slice(b, b + BATCH);
    const res = await Promise.allSettled(batch.map((a) => L.connect(URL_, a, 30_000)));
    for (const r of res) {
      if (r.status === 'fulfilled') {
        const s = r.value;
        s.on('disconnect', (reason) => {
          if (closing) return;
          disconnects++;
          if (disconnects <= 5) log(`a connection dropped${idle ? ' while idle' : ''}: ${reason}`);
        });
        sockets.push(s);
      } else {
        failedConnects++;
        firstError ??= r.reason.message;
      }
    }
  }
  const connectSec = (performance.now() - t0) / 1000;
  log(`${sockets.length} of ${CONNS} connected in ${connectSec.toFixed(1)} s (batches of ${BATCH})` +
    (failedConnects ? `; ${failedConnects} failed, first: ${firstError}` : ''));
  if (sockets.length < CONNS && failedConnects === 0) log(`stopped at the ${DEADLINE_S} s connect deadline`);
  const rssConnectedKiB = L.procStatusKiB(PID, 'VmRSS');

  idle = true;
  const cpu = L.cpuWindow(PID, CLK_TCK);
  cpu.start();
  await L.sleep(SECONDS * 1000);
  const w = cpu.stop();
  const rssAfterKiB = L.procStatusKiB(PID, 'VmRSS');
  const hwmKiB = L.procStatusKiB(PID, 'VmHWM');
  const open = sockets.filter((s) => s.connected).length;
  closing = true;
  for (const s of sockets) s.close();

  const n = open;
  const out = {
    scenario: 'idle',
    target: TARGET,
    conns: CONNS,
    batch: BATCH,
    settleSec: SETTLE,
    idleSec: SECONDS,
    connected: sockets.length,
    openAtEnd: open,
    failedConnects,
    firstError,
    disconnects,
    connectSec: L.round(connectSec, 1),
    rssBeforeKiB,
    rssConnectedKiB,
    rssAfterKiB,
    hwmKiB,
    perConnKiB: n ? L.round((rssAfterKiB - rssBeforeKiB) / n, 1) : null,
    totalPerConnKiB: n ? L.round(rssAfterKiB / n, 1) : null,
    ...L.cpuFigures(w),
    loadgenHeapMiB: L.round(process.memoryUsage().rss / 1048576, 0),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  setTimeout(() => process.exit(open < CONNS ? 1 : 0), 200);
}

main().catch((e) => {
  log(`failed: ${e.stack || e.message}`);
  process.exit(1);
});
