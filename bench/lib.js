// Shared pieces of the load generators (load.js, fanout.js, idle.js) run by scripts/bench.sh:
// /proc sampling of the server under test, HS256 tokens for Parley, socket.io-client
// connections, percentiles. Only node: built-ins and socket.io-client.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const crypto = require('node:crypto');
const { io } = require('socket.io-client');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function makeLog(tag) {
  return (msg) => process.stderr.write(`[${tag}] ${msg}\n`);
}

function die(tag, msg) {
  process.stderr.write(`${tag}: ${msg}\n`);
  process.exit(2);
}

// Integer option >= min, or die.
function intArg(tag, args, name, min = 1) {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < min) die(tag, `--${name} must be an integer >= ${min}, got ${args[name]}`);
  return n;
}

// ---------- /proc ----------
// utime+stime of a process, in clock ticks. The fields after the ")" of the comm start at
// field 3 (state); utime is field 14 and stime field 15.
function procCpuTicks(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(rest[14 - 3]) + Number(rest[15 - 3]);
}

// Whole-machine busy and total ticks (first line of /proc/stat).
function machineTicks() {
  const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = cpu[3] + (cpu[4] || 0);
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  return { idle, total };
}

// A field of /proc/<pid>/status in KiB (VmRSS, VmHWM), or null.
function procStatusKiB(pid, field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

// Resets the peak RSS (VmHWM) of pid to its current RSS, so the peak read afterwards is the
// peak of what follows. Returns the peak before the reset (KiB) or null.
function resetPeakRss(pid, log) {
  const before = procStatusKiB(pid, 'VmHWM');
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch (e) {
    log(`could not reset VmHWM of ${pid} (${e.code ?? e.message}); peak RSS includes setup`);
    return null;
  }
  return before;
}

// Samples server CPU, machine CPU and this process's CPU between start() and stop().
function cpuWindow(pid, clkTck) {
  let cpu0, mach0, self0, t0;
  return {
    start() {
      cpu0 = pid ? procCpuTicks(pid) : null;
      mach0 = machineTicks();
      self0 = process.cpuUsage();
      t0 = performance.now();
    },
    stop() {
      const t1 = performance.now();
      const cpu1 = pid ? procCpuTicks(pid) : null;
      const mach1 = machineTicks();
      const self = process.cpuUsage(self0);
      const secs = (t1 - t0) / 1000;
      const machTotal = mach1.total - mach0.total;
      const ncpu = os.cpus().length;
      const serverCpuSec = pid ? (cpu1 - cpu0) / clkTck : null;
      return {
        secs,
        serverCpuSec,
        serverCpuCores: serverCpuSec == null ? null : serverCpuSec / secs,
        loadgenCpuCores: (self.user + self.system) / 1e6 / secs,
        machineBusyCores: machTotal > 0 ? ((machTotal - (mach1.idle - mach0.idle)) / machTotal) * ncpu : null,
        machineCores: ncpu,
      };
    },
  };
}

// ---------- tokens ----------
const b64url = (buf) => Buffer.from(buf).toString('base64url');

// An HS256 JWT for Parley: sub = userId, exp one hour ahead (plus any extra claims).
function signJwt(secret, userId, extra = {}) {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(JSON.stringify({ sub: userId, iat: now, exp: now + 3600, ...extra }));
  const sig = crypto.createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${sig}`;
}

// A random 24-hex id (ObjectId-shaped, as Parley's user ids).
const randomId = () => crypto.randomBytes(12).toString('hex');

// ---------- sockets ----------
// One websocket-only socket.io-client connection (no multiplexing, no reconnection).
function connect(url, auth, timeoutMs = 20_000) {
  return new Promise((resolve, reject) => {
    const socket = io(url, {
      auth,
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      timeout: timeoutMs,
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

// Runs fn over items with at most `limit` at a time; results in order.
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

// ---------- numbers ----------
function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
const round = (x, d = 2) => (x == null || !Number.isFinite(x) ? null : Number(x.toFixed(d)));

// The window figures every scenario reports, rounded.
function cpuFigures(w) {
  return {
    measuredSec: round(w.secs, 3),
    serverCpuSec: round(w.serverCpuSec, 2),
    serverCpuCores: round(w.serverCpuCores, 2),
    loadgenCpuCores: round(w.loadgenCpuCores, 2),
    machineBusyCores: round(w.machineBusyCores, 2),
    machineCores: w.machineCores,
  };
}

module.exports = {
  sleep,
  makeLog,
  die,
  intArg,
  procCpuTicks,
  machineTicks,
  procStatusKiB,
  resetPeakRss,
  cpuWindow,
  signJwt,
  randomId,
  connect,
  emitAck,
  pool,
  percentile,
  round,
  cpuFigures,
};
