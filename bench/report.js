// Turns the JSON lines of bench/load.js runs (plus the RSS figures bench.sh adds) into the
// Markdown table scripts/bench.sh prints. Usage: node report.js <result.json>...
// Each file holds one JSON object: load.js's output with `server`, `peakRssKiB` and
// `endRssKiB` added by bench.sh.
'use strict';

const fs = require('node:fs');

const rows = process.argv.slice(2).map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
if (rows.length === 0) {
  process.stderr.write('report.js: no results\n');
  process.exit(1);
}

const fmt = (x, d = 0) => (x == null || !Number.isFinite(x) ? 'n/a' : x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
const mib = (kib) => (kib == null ? null : kib / 1024);
const median = (xs) => {
  const v = xs.filter((x) => x != null && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

const out = [];
out.push('| server | msgs/s acked | deliveries/s | deliveries per server CPU-second | ack p50 ms | ack p99 ms | peak RSS MiB | RSS at end MiB | server CPU (cores) |');
out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  out.push(`| ${r.server} | ${fmt(r.msgsPerSec)} | ${fmt(r.deliveriesPerSec)} | ${fmt(r.deliveriesPerServerCpuSec)} | ${fmt(r.ackP50Ms, 1)} | ${fmt(r.ackP99Ms, 1)} | ${fmt(mib(r.peakRssKiB), 1)} | ${fmt(mib(r.endRssKiB), 1)} | ${fmt(r.serverCpuCores, 2)} |`);
}
out.push('');

// Ratios Parley/Node, from the medians of each server's runs.
const by = (name) => rows.filter((r) => r.target === name);
const p = by('parley');
const n = by('node');
if (p.length && n.length) {
  const ratio = (key, f = (x) => x) => {
    const a = median(p.map((r) => f(r[key])));
    const b = median(n.map((r) => f(r[key])));
    return a == null || b == null || b === 0 ? 'n/a' : `${(a / b).toFixed(2)}×`;
  };
  const runs = p.length > 1 || n.length > 1 ? ` (medians of ${p.length} Parley and ${n.length} Node runs)` : '';
  out.push(`Parley/Node${runs}: msgs/s ${ratio('msgsPerSec')}, deliveries/s ${ratio('deliveriesPerSec')}, ` +
    `deliveries per server CPU-second ${ratio('deliveriesPerServerCpuSec')}, ack p50 ${ratio('ackP50Ms')}, ` +
    `ack p99 ${ratio('ackP99Ms')}, peak RSS ${ratio('peakRssKiB')}.`);
  out.push('');
}

const r0 = rows[0];
out.push(`Shape: ${r0.rooms} rooms × ${r0.members} members = ${r0.clients} websocket clients (socket.io-client v4, one load-generator process), ` +
  `${r0.sendersPerRoom} sender(s) per room with ≤ ${r0.windowPerSender} acked sends in flight each, ${r0.textBytes}-byte texts, ` +
  `${r0.warmupSec} s warm-up then ${r0.measuredSec} s measured. Every message is delivered to the ${r0.members - 1} other members of its room.`);
out.push('Parley makes a durable SQLite write per message (WAL, group commit) before it acks; the bare Node socket.io server has no database ' +
  'and only bumps an in-memory counter, so the comparison is conservative for Parley.');
out.push('');
out.push('Per run:');
for (const r of rows) {
  const t = r.totals;
  let line = `- ${r.server}: ${fmt(r.deliveriesPerAck, 2)} deliveries per ack (expected ${r.expectedDeliveriesPerAck}); ` +
    `server ${fmt(r.serverCpuSec, 2)} CPU-s, load generator ${fmt(r.loadgenCpuCores, 2)} cores, whole machine ${fmt(r.machineBusyCores, 2)} of ${r.machineCores} cores busy; ` +
    `timeouts ${t.timeouts}, failed acks ${JSON.stringify(t.failures)}`;
  if (r.parley) {
    line += `; Go GC ${fmt(r.parley.gcCyclesPerSec, 1)} cycles/s (${fmt(r.parley.gcPauseMsTotal, 1)} ms stop-the-world in the window), ` +
      `mean message:new handling ${fmt(r.parley.meanHandleMs, 2)} ms, heap in use at end ${fmt(r.parley.heapInuseMiBEnd, 1)} MiB`;
  }
  if (r.gogc) line += `; GOGC=${r.gogc}`;
  if (r.hwmSetupKiB != null) line += `; peak RSS before the measured window (setup + warm-up) ${fmt(mib(r.hwmSetupKiB), 1)} MiB`;
  out.push(`${line}.`);
}
const busy = Math.max(...rows.map((r) => r.machineBusyCores ?? 0));
const own = Math.max(...rows.map((r) => (r.serverCpuCores ?? 0) + (r.loadgenCpuCores ?? 0)));
out.push('');
out.push(`Noise: the machine has ${r0.machineCores} cores shared with other work; server + load generator used up to ${fmt(own, 2)} cores ` +
  `while the whole machine was up to ${fmt(busy, 2)} cores busy. Throughput and latency move with that contention; ` +
  'deliveries per server CPU-second is the steadiest figure.');
process.stdout.write(`${out.join('\n')}\n`);
