// Password hashing storms (issue 8, item 4). Before: 100 concurrent logins for unknown
// handles took the server from 64 MiB to 1.9 GiB RSS (argon2id, 19 MiB each, unbounded)
// and another user's user:me took 1 s. Now hashes run in a few slots with a short line;
// beyond it, 503 UNAVAILABLE with Retry-After. Every request comes from its own address
// (TRUST_PROXY=127.0.0.1 and X-Forwarded-For), so the per-address limits stay out of the
// way and only the hashing bound is tested. SQLite only: the figures are the server's own.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mongoMode, startServer, stopServer } from '../lib/server.js';
import { randomHandle, request } from '../lib/http.js';
import { newUser } from '../lib/fixtures.js';
import { startProbe } from '../lib/latency-probe.js';

const WORKERS = 200; // concurrent requests, half register, half login for unknown handles
const STORM_MS = 4000;
const MAX_PER_WORKER = 40; // bounded: at most 8,000 requests in all
const RSS_LIMIT_KIB = 300 * 1024;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Peak resident set of a process (VmHWM), KiB. */
function peakRssKiB(pid) {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, 'VmHWM not found in /proc/<pid>/status');
  return Number(m[1]);
}

function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

describe('password hashing storm', { skip: mongoMode && 'figures are measured on the SQLite build' }, () => {
  let srv;
  before(async () => { srv = await startServer({ env: { TRUST_PROXY: '127.0.0.1' } }); });
  after(async () => { await stopServer(srv); });

  test(`${WORKERS} concurrent register/login requests: bounded memory, 503 + Retry-After beyond the line, other users unaffected`, { timeout: 40_000 }, async () => {
    // The connected user asks user:me every 20 ms, from a worker thread (its own event
    // loop: the 200 requests below would otherwise delay its timing, not the server).
    const watcher = await newUser(srv);
    const idleProbe = startProbe(srv, watcher.token);
    await idleProbe.ready;
    await sleep(500);
    const idle = await idleProbe.stop();

    const counts = {};
    const bad = [];
    const unavailable = { register: 0, login: 0 };
    const registered = [];
    const deadline = Date.now() + STORM_MS;
    const worker = async (w) => {
      const kind = w % 2 === 0 ? 'register' : 'login';
      for (let k = 0; k < MAX_PER_WORKER && Date.now() < deadline; k++) {
        const headers = { 'X-Forwarded-For': `10.${w >> 8}.${w & 255}.${k + 1}` };
        const handle = randomHandle(kind === 'register' ? 'storm' : 'ghost');
        const res = kind === 'register'
          ? await request(srv, 'POST', '/auth/register', { handle, name: 'Storm', password: 'storm password' }, { headers })
          : await request(srv, 'POST', '/auth/login', { handle, password: 'storm password' }, { headers });
        counts[res.status] = (counts[res.status] ?? 0) + 1;
        if (res.status === 503) {
          unavailable[kind]++;
          const ra = res.headers.get('retry-after');
          if (!/^[1-9]\d*$/.test(ra ?? '') || res.body?.code !== 'UNAVAILABLE' || typeof res.body?.error !== 'string') {
            bad.push(`503 with Retry-After ${ra} and ${res.text}`);
          }
          await sleep(100 + Math.random() * 100); // a client that retries soon
        } else if (kind === 'register' && res.status === 201) {
          registered.push(handle);
        } else if (!(kind === 'login' && res.status === 401)) {
          bad.push(`${kind}: ${res.status} ${res.text}`);
        }
      }
    };
    const probe = startProbe(srv, watcher.token);
    await probe.ready;
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    const during = await probe.stop();

    const peak = peakRssKiB(srv.proc.pid);
    const stat = readFileSync(`/proc/${srv.proc.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const serverCpuS = (Number(stat[11]) + Number(stat[12])) / 100; // utime + stime, clock ticks
    const metrics = (await request(srv, 'GET', '/metrics')).text;
    const refused = Number(/^parley_auth_hash_refused_total (\d+)$/m.exec(metrics)?.[1]);
    const figures = {
      statuses: counts, unavailable, peakRssMiB: Math.round(peak / 1024),
      userMeIdleMs: { p50: quantile(idle, 0.5).toFixed(1), max: Math.max(...idle).toFixed(1) },
      userMeDuringStormMs: { n: during.length, p50: quantile(during, 0.5).toFixed(1), p95: quantile(during, 0.95).toFixed(1), max: Math.max(...during).toFixed(1) },
      refusedMetric: refused, serverCpuS,
    };
    console.log(`# storm figures ${JSON.stringify(figures)}`);

    assert.deepEqual(bad, [], 'every answer is 201/401, or 503 UNAVAILABLE with a Retry-After of whole seconds');
    assert.ok(counts[201] > 0 && counts[401] > 0, `some registers and logins were served: ${JSON.stringify(counts)}`);
    assert.ok(unavailable.register > 0 && unavailable.login > 0, `both registers and unknown-handle logins met the bound: ${JSON.stringify(unavailable)}`);
    assert.equal(refused, counts[503], 'parley_auth_hash_refused_total counts the 503s');
    assert.ok(peak < RSS_LIMIT_KIB, `peak RSS ${Math.round(peak / 1024)} MiB, want < 300 MiB`);
    assert.ok(during.length >= 20, `user:me sampled ${during.length} times during the storm`);
    assert.ok(quantile(during, 0.5) < 50, `user:me p50 during the storm ${quantile(during, 0.5).toFixed(1)} ms, want < 50 ms`);
    assert.ok(quantile(during, 0.95) < 150, `user:me p95 during the storm ${quantile(during, 0.95).toFixed(1)} ms, want < 150 ms`);

    // Nothing lingers: right after the storm a user made during it logs in at once.
    const res = await request(srv, 'POST', '/auth/login', { handle: registered[0], password: 'storm password' },
      { headers: { 'X-Forwarded-For': '10.255.0.1' } });
    assert.equal(res.status, 200, res.text);
  });
});
