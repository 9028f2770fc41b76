// Turns the results of scripts/bench.sh into Markdown: one table per scenario, each
// server's row, then ratio rows (Parley / each Node server), then the shape of the load and
// per-run checks. Usage: node report.js <file.json>...
//
// Each file holds one JSON object, either a run (the load generator's output, with
// `server` (label), `key`, `round`, `peakRssKiB` and `endRssKiB` added by bench.sh) or a
// note {scenario, note} (a skipped or failed server). Env BENCH_META (JSON: date, commit,
// versions) adds a header line.
'use strict';

const fs = require('node:fs');

const items = process.argv.slice(2).map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
if (items.length === 0) {
  process.stderr.write('report.js: no results\n');
  process.exit(1);
}
const runs = items.filter((x) => x.note == null);
const notes = items.filter((x) => x.note != null);

const fmt = (x, d = 0) => (x == null || !Number.isFinite(x) ? 'n/a' : x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
const mib = (kib) => (kib == null ? null : kib / 1024);
const median = (xs) => {
  const v = xs.filter((x) => x != null && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

// Columns: h header, v value of a run, d decimals, ratio false for counts where a ratio says
// nothing.
const col = (h, v, d = 0, ratio = true) => ({ h, v: typeof v === 'string' ? (r) => r[v] : v, d, ratio });
const peak = col('peak RSS MiB', (r) => mib(r.peakRssKiB), 1);
const srvCores = col('server CPU cores', 'serverCpuCores', 2);
const genCores = col('load-gen CPU cores', 'loadgenCpuCores', 2, false);

const SCENARIOS = {
  fanout: {
    title: 'fanout: one room, every message to every client',
    columns: [
      col('broadcasts/s', 'broadcastsPerSec'),
      col('deliveries/s', 'deliveriesPerSec'),
      col('**deliveries per server CPU-second**', 'deliveriesPerServerCpuSec'),
      col('completion p50 ms', 'completionP50Ms', 1),
      col('completion p99 ms', 'completionP99Ms', 1),
      peak,
      srvCores,
      genCores,
    ],
    ratios: [['parley-fanout', 'node-fanout', 'Parley / Node']],
    shape: (r) =>
      `${r.clients} websocket clients (socket.io-client v4, one load-generator process) in room \`r\`; ${r.inflight} broadcasts in flight, ` +
      `each an \`m\` event of ${r.payloadBytes} bytes of JSON from a rotating client, broadcast by the server to the whole room (sender included) ` +
      `and complete when all ${r.clients} clients have it; completion time is emit → last receipt. ${r.warmupSec} s warm-up, ${r.measuredSec} s measured.`,
    checks: (r) =>
      `${r.broadcasts.toLocaleString('en-US')} broadcasts completed, lost (not complete in time) ${r.lost}, duplicate deliveries ${r.duplicates}, ` +
      `stray ${r.strays}, disconnects ${r.disconnects}`,
  },
  e2e: {
    title: 'e2e: closed loop, message:new with ack',
    columns: [
      col('msgs/s acked', 'msgsPerSec'),
      col('deliveries/s', 'deliveriesPerSec'),
      col('**acked msgs per server CPU-second**', 'ackedPerServerCpuSec'),
      col('**deliveries per server CPU-second**', 'deliveriesPerServerCpuSec'),
      col('ack p50 ms', 'ackP50Ms', 1),
      col('ack p99 ms', 'ackP99Ms', 1),
      col('delivery p50 ms', 'deliveryP50Ms', 1),
      col('delivery p99 ms', 'deliveryP99Ms', 1),
      peak,
      srvCores,
      genCores,
    ],
    ratios: [
      ['parley', 'node-sqlite', 'Parley / Node+SQLite'],
      ['parley', 'node', 'Parley / Node bare'],
    ],
    shape: (r) =>
      `${r.rooms} rooms × ${r.members} members = ${r.clients} websocket clients (socket.io-client v4, one load-generator process); ` +
      `${r.senders} senders spread round-robin over the rooms, ${r.inflight} acked \`message:new\` in flight in total ` +
      `(${r.windowsPerSender.join('/')} per sender; a new send when an ack returns), ${r.textBytes}-character texts with a clientId; ` +
      `every message reaches the ${r.members - 1} other members of its room. Ack latency is emit → ack; delivery latency is emit → receipt by each other member ` +
      `(every fourth member's receipts, by the clientId; n/a with the Node load generator). ${r.warmupSec} s warm-up, ${r.measuredSec} s measured.`,
    checks: (r) =>
      `${fmt(r.deliveriesPerAck, 2)} deliveries per ack (expected ${r.expectedDeliveriesPerAck}); timeouts ${r.timeouts}, failed acks ${JSON.stringify(r.failures)}, disconnects ${r.disconnects}`,
  },
  open: {
    title: 'open: fixed offered rate, message:new with ack',
    columns: [
      col('offered msgs/s', 'rateOffered', 0, false),
      col('acked', 'acked', 0, false),
      col('failed', 'failed', 0, false),
      col('ack p50 ms (from scheduled)', 'ackP50Ms', 1),
      col('ack p99 ms (from scheduled)', 'ackP99Ms', 1),
      col('ack max ms (from scheduled)', 'ackMaxMs', 1),
      col('delivery p50 ms (from send)', 'deliveryP50Ms', 1),
      col('delivery p99 ms (from send)', 'deliveryP99Ms', 1),
      srvCores,
      col('**acked msgs per server CPU-second**', 'ackedPerServerCpuSec'),
      col('deliveries per server CPU-second', 'deliveriesPerServerCpuSec'),
      peak,
      col('send lag p99 ms', 'sendLagP99Ms', 1, false),
    ],
    ratios: [
      ['parley', 'node-sqlite', 'Parley / Node+SQLite'],
      ['parley', 'node', 'Parley / Node bare'],
    ],
    shape: (r) =>
      `Same clients and rooms as e2e (${r.rooms} × ${r.members}), open loop: ${fmt(r.rateOffered)} \`message:new\`/s offered in total on a clock, ` +
      `send j scheduled at start + j/rate from sender j mod ${r.senders}, regardless of acks; ${r.textBytes}-character texts. ` +
      `**Ack latency is measured from each send's scheduled time**, so queueing in the server or the load generator counts ` +
      `(send lag = how late the load generator emitted against the schedule). The sends scheduled in the ${r.measuredSec} s window ` +
      `(after ${r.warmupSec} s warm-up) count; their acks are awaited up to the ack timeout. failed = timeouts + error acks + unanswered. ` +
      `Each sender socket offers ${fmt(r.rateOffered / r.senders, 1)} msgs/s: a server that runs one socket's events one after another keeps up ` +
      `only while a message takes under ${fmt((1000 * r.senders) / r.rateOffered, 1)} ms.`,
    checks: (r) =>
      `offered ${r.offered}, acked ${r.acked}, timeouts ${r.timeouts}, error acks ${JSON.stringify(r.failures)}, unanswered ${r.unresolved}; ` +
      `${fmt(r.deliveriesPerAck, 2)} deliveries per ack (expected ${r.expectedDeliveriesPerAck}); send lag max ${fmt(r.sendLagMaxMs, 1)} ms; disconnects ${r.disconnects}`,
  },
  idle: {
    title: 'idle: memory per idle websocket connection',
    columns: [
      col('connections', 'openAtEnd', 0, false),
      col('RSS before MiB', (r) => mib(r.rssBeforeKiB), 1),
      col('RSS after MiB', (r) => mib(r.rssAfterKiB), 1),
      col('**KiB per connection** (after − before) / N', 'perConnKiB', 1),
      col('total RSS / N KiB', 'totalPerConnKiB', 1),
      col('connect s', 'connectSec', 1),
      col('server CPU cores while idle', 'serverCpuCores', 3, false),
    ],
    ratios: [['parley', 'node', 'Parley / Node']],
    shape: (r) =>
      `${r.conns.toLocaleString('en-US')} websocket connections (socket.io-client v4, one load-generator process) opened in batches of ${r.batch}; ` +
      `Parley: a distinct user per connection (an HS256 JWT, created on first connect); Node: a distinct token. VmRSS read after ${r.settleSec} s with no ` +
      `connection (before) and after all are connected plus ${r.idleSec} s idle (after); N = connections still open at the end.`,
    checks: (r) =>
      `${r.connected} connected, ${r.openAtEnd} open at the end, ${r.failedConnects} failed${r.firstError ? ` (first: ${r.firstError})` : ''}, ` +
      `${r.disconnects} dropped; RSS right after connecting ${fmt(mib(r.rssConnectedKiB), 1)} MiB, peak ${fmt(mib(r.hwmKiB), 1)} MiB; ` +
      `load generator RSS ${fmt(r.loadgenHeapMiB)} MiB`,
  },
  search: {
    title: 'search: message:search on SQLite (store call, no server)',
    columns: [
      col('queries', 'queries', 0, false),
      col('**p50 ms**', 'p50Ms', 2),
      col('p90 ms', 'p90Ms', 2),
      col('**p99 ms**', 'p99Ms', 2),
      col('max ms', 'maxMs', 2),
      col('results per query (page of 20)', 'meanResults', 1, false),
    ],
    ratios: [],
    shape: (r) =>
      `${fmt(r.messages)} messages in ${fmt(r.chats)} group chats of 5-7 members, one SQLite file (${fmt(r.fileMiB)} MiB, of which the ` +
      `search index ${fmt(r.indexMiB)} MiB), built once with plain SQL and the store's own index code, not optimized; texts of 3-17 words ` +
      'from 30,000 made-up words with Zipf frequencies. Each query asks Store.SearchMessages for a page of 20 (limit 21) and reads it; ' +
      'queries are a quarter each a frequency-drawn word, a uniformly drawn (mostly rare) word, the first 3 letters of a frequency-drawn word, ' +
      'and two words; after 200 warm-up queries, one at a time. Latency is the store call (the query, reading the rows); the socket and ' +
      'the rendering of the messages (their senders and replies) come on top.',
    checks: (r) => {
      const kinds = Object.entries(r.byKind || {}).map(([k, v]) => `${k} p50 ${fmt(v.p50Ms, 2)} / p99 ${fmt(v.p99Ms, 2)} ms`).join(', ');
      return `${kinds}${r.buildSec ? `; the database was built in this run (${fmt(r.buildSec)} s)` : ''}`;
    },
    perRun: true,
  },
};

const out = [];
if (process.env.BENCH_META) {
  const m = JSON.parse(process.env.BENCH_META);
  out.push(`Run ${m.date} at ${m.commit}; ${m.cores} cores; ${m.node}, ${m.go}. Servers and load generators are separate processes on 127.0.0.1; ` +
    'server CPU is utime+stime from /proc/<pid>/stat over the measured window; every Parley figure is beside Node figures from the same run' +
    (runs.some((r) => r.scenario === 'search') ? ' (except search, which has no Node counterpart).' : '.'));
  out.push('');
}

const order = [...new Set(items.map((x) => x.scenario))];
for (const name of order) {
  const S = SCENARIOS[name];
  if (!S) continue;
  const rs = runs.filter((r) => r.scenario === name);
  out.push(`### ${S.title}`);
  out.push('');
  if (rs.length) {
    const multi = new Set(rs.map((r) => r.key)).size < rs.length;
    const nameOf = (r) => (multi ? `${r.server} (round ${r.round})` : r.server);
    out.push(`| server | ${S.columns.map((c) => c.h).join(' | ')} |`);
    out.push(`|---|${S.columns.map(() => '---:').join('|')}|`);
    for (const r of rs) {
      out.push(`| ${nameOf(r)} | ${S.columns.map((c) => fmt(c.v(r), c.d)).join(' | ')} |`);
    }
    let ratioRows = 0;
    for (const [a, b, title] of S.ratios) {
      const ra = rs.filter((r) => r.key === a);
      const rb = rs.filter((r) => r.key === b);
      if (!ra.length || !rb.length) continue;
      const cells = S.columns.map((c) => {
        if (!c.ratio) return '';
        const x = median(ra.map(c.v));
        const y = median(rb.map(c.v));
        return x == null || y == null || y === 0 ? 'n/a' : `${(x / y).toFixed(2)}×`;
      });
      const med = ra.length > 1 || rb.length > 1 ? ' (medians)' : '';
      out.push(`| **${title}**${med} | ${cells.join(' | ')} |`);
      ratioRows++;
    }
    out.push('');
    out.push(`Shape: ${S.shape(rs[0])}`);
    if (ratioRows) {
      out.push('Ratio rows divide Parley by that server: above 1× is better for throughput and per-CPU-second columns, worse for latency, CPU and memory columns.');
    }
    out.push('');
    out.push('Per run:');
    for (const r of rs) {
      if (S.perRun) {
        out.push(`- ${nameOf(r)}: ${S.checks(r)}.`);
        continue;
      }
      let line = `- ${nameOf(r)}: ${S.checks(r)}; server ${fmt(r.serverCpuSec, 2)} CPU-s in ${fmt(r.measuredSec, 1)} s, ` +
        `load generator ${fmt(r.loadgenCpuCores, 2)} cores, whole machine ${fmt(r.machineBusyCores, 2)} of ${r.machineCores} cores busy`;
      if (r.parley) {
        line += `; Go GC ${fmt(r.parley.gcCyclesPerSec, 1)} cycles/s (${fmt(r.parley.gcPauseMsPerSec, 1)} ms stop-the-world per second), ` +
          `mean message:new handling ${fmt(r.parley.meanHandleMs, 2)} ms, heap in use at end ${fmt(r.parley.heapInuseMiBEnd, 1)} MiB`;
      }
      if (r.gogc) line += `; GOGC=${r.gogc}`;
      if (r.hwmSetupKiB != null) line += `; peak RSS before the measured window (setup + warm-up) ${fmt(mib(r.hwmSetupKiB), 1)} MiB`;
      out.push(`${line}.`);
    }
    // Harness health: a load generator is one Node process, so about one core is its ceiling.
    const sat = rs.filter((r) => name !== 'idle' && (r.loadgenCpuCores ?? 0) >= 0.85);
    if (sat.length) {
      out.push('');
      out.push(`Caveat: the load generator ran at ${sat.map((r) => `${fmt(r.loadgenCpuCores, 2)} cores against ${nameOf(r)}`).join(', ')}: ` +
        'a single Node process tops out near one core, so throughput and latency there are bounded by the load generator as much as by the server ' +
        '(per-server-CPU-second figures still compare the servers).');
    }
    const lag = rs.filter((r) => (r.sendLagP99Ms ?? 0) > 20);
    if (lag.length) {
      out.push('');
      out.push(`Caveat: the load generator fell behind its send schedule (send lag p99 ${lag.map((r) => `${fmt(r.sendLagP99Ms, 0)} ms against ${nameOf(r)}`).join(', ')}): ` +
        'those latencies include its own delay (they are measured from the schedule, so nothing is hidden, but not all of it is the server\'s).');
    }
    const busy = rs.filter((r) => name !== 'idle' && (r.machineBusyCores ?? 0) >= 0.9 * r.machineCores);
    if (busy.length) {
      out.push('');
      out.push(`Caveat: the machine was saturated (≥ 90 % of ${busy[0].machineCores} cores busy) during ${busy.map(nameOf).join(', ')}; ` +
        'other work on the machine competes too, so absolute throughput and latency are noisy.');
    }
  }
  const ns = notes.filter((x) => x.scenario === name);
  if (ns.length) {
    out.push('');
    for (const x of ns) out.push(`Note: ${x.note}`);
  }
  out.push('');
}
process.stdout.write(`${out.join('\n')}\n`);
