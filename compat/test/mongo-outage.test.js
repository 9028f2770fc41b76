// MongoDB outage under traffic (PROTOCOL.md: acks, UNAVAILABLE, /readyz, clientId).
// The test runs its own FerretDB, whatever the suite's mode, so it can crash it: SIGKILL
// mid-traffic, then a restart on the same port and data. While the database is gone, sends
// are answered UNAVAILABLE within a bounded time (never a success, never no answer),
// /readyz is 503 naming the store, /healthz stays 200 and the process stays up. After the
// restart Parley recovers by itself, and every failed send, retried with its clientId,
// lands exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer } from '../lib/server.js';
import { FERRETDB_BIN, FerretDB } from '../lib/ferretdb.js';
import { request } from '../lib/http.js';
import { barrier, newUsers } from '../lib/fixtures.js';
import { short } from '../lib/client.js';

const skip = FERRETDB_BIN ? false : 'FERRETDB_BIN is not set (scripts/test.sh exports it; scripts/ferretdb.sh builds FerretDB)';

const SELECTION_TIMEOUT_MS = 1000;
const ACK_TIMEOUT_MS = 8000; // comfortably above the selection timeout (an event may wait on a few operations)
const TICK_MS = 20; // one send every ~20 ms, on whichever sender socket has none in flight
const SENDER_SOCKETS = 3; // a socket handles its events one by one: one send in flight per socket
const MAX_SENDS = 1500;
const WARM_MS = 1000; // traffic before the crash
const OUTAGE_MIN_MS = 2500; // the database stays down at least this long
const UNAVAILABLE_WITHIN_MS = 10_000; // first UNAVAILABLE ack after the crash, at the latest
const RECOVERY_WITHIN_MS = 20_000; // /readyz 200 after the restart, at the latest
const AFTER_RECOVERY_SENDS = 15; // sends that must succeed after /readyz is back to 200
const RETRY_WITHIN_MS = 25_000;
// A retry whose first attempt left an unfinished claim (the crash hit between its steps)
// waits for that claim to be older than the store's repair grace (10 s by default) before
// taking it over, so a retry may legitimately take that long; the server bounds an event
// at 15 s.
const RETRY_ACK_TIMEOUT_MS = 15_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const t0 = performance.now();
const now = () => Math.round(performance.now() - t0);

async function waitFor(cond, ms, what) {
  const deadline = performance.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await sleep(20);
  }
}

test('MongoDB crash under traffic: UNAVAILABLE acks, /readyz 503, recovery, clientId retries land exactly once', { skip, timeout: 90_000 }, async (t) => {
  const ferret = new FerretDB();
  let srv = null;
  const clients = [];
  t.after(async () => {
    for (const c of clients) c.close();
    try {
      if (srv) await stopServer(srv); // SIGTERM, asserts exit 0
    } finally {
      await ferret.stop();
      ferret.cleanup();
    }
  });

  await ferret.start();
  srv = await startServer({
    env: {
      MONGODB_URI: ferret.uri,
      MONGODB_DB: `outage_${process.pid}_${Date.now()}`,
      MONGODB_SERVER_SELECTION_TIMEOUT_MS: SELECTION_TIMEOUT_MS,
      SQLITE_PATH: null,
    },
  });
  const stderrTail = () => `\n--- parley stderr (tail) ---\n${srv.stderr().slice(-6000)}\n--- ferretdb output ---\n${ferret.output.slice(-2000)}`;

  const [a, b] = await newUsers(srv, 2);
  const senders = [];
  for (let k = 0; k < SENDER_SOCKETS; k++) senders.push(await a.connect());
  const cb = await b.connect();
  clients.push(...senders, cb);
  const chat = (await senders[0].ok('chat:create', { type: 'direct', participantId: b.id })).chat;
  const chatId = chat.id;

  // Receiver: every message:new of this chat, with the time it came.
  const live = [];
  cb.socket.on('message:new', (p) => { if (p?.message?.chatId === chatId) live.push({ at: now(), message: p.message }); });

  // ---- traffic ----
  const runId = `${process.pid}-${Date.now()}`;
  const sends = []; // { i, clientId, text, sock, sentAt, ackAt, outcome, res, err }
  const busy = new Array(SENDER_SOCKETS).fill(false);
  const inflight = new Set();
  let stopTraffic = false;
  const launch = (k, i) => {
    busy[k] = true;
    const rec = { i, clientId: `o-${runId}-${i}`, text: `outage traffic ${i}`, sock: k, sentAt: now() };
    sends.push(rec);
    const p = senders[k].ack('message:new', { chatId, text: rec.text, clientId: rec.clientId }, ACK_TIMEOUT_MS).then(
      (res) => {
        rec.res = res;
        if (res?.success === true) rec.outcome = 'ok';
        else if (res?.success === false && res.code === 'UNAVAILABLE') rec.outcome = 'unavailable';
        else rec.outcome = 'other';
      },
      (err) => {
        rec.err = err.message;
        rec.outcome = /no ack/.test(err.message) ? 'timeout' : 'other';
      },
    ).finally(() => {
      rec.ackAt = now();
      busy[k] = false;
      inflight.delete(p);
    });
    inflight.add(p);
  };
  const traffic = (async () => {
    let i = 0;
    while (!stopTraffic && i < MAX_SENDS) {
      const k = busy.indexOf(false);
      if (k >= 0) launch(k, i++);
      await sleep(TICK_MS);
    }
  })();

  const problems = [];
  const check = (cond, msg) => { if (!cond) problems.push(msg); return cond; };
  const fmt = (r) => `#${r.i} ${r.clientId} sent@${r.sentAt} ack@${r.ackAt ?? '-'} ${r.outcome ?? 'pending'} ${r.err ?? short(r.res, 200)}`;
  const readyz = () => request(srv, 'GET', '/readyz');
  const healthz = () => request(srv, 'GET', '/healthz');

  try {
    await sleep(WARM_MS);
    const warm = sends.filter((r) => r.outcome);
    assert.ok(warm.length >= 10, `only ${warm.length} sends acknowledged in the first ${WARM_MS} ms`);
    for (const r of warm) check(r.outcome === 'ok', `before the crash a send failed: ${fmt(r)}`);

    // ---- crash the database ----
    const killAt = now();
    const ex = await ferret.kill('SIGKILL');
    const killedAt = now();
    assert.equal(ex.signal, 'SIGKILL', `ferretdb exit: ${JSON.stringify(ex)}`);
    t.diagnostic(`ferretdb SIGKILLed at ${killAt} ms (exit seen at ${killedAt} ms)`);

    const firstUnavailable = await waitFor(
      () => sends.filter((r) => r.outcome === 'unavailable').sort((x, y) => x.ackAt - y.ackAt)[0],
      UNAVAILABLE_WITHIN_MS,
      () => `an UNAVAILABLE ack after the crash (answers since: ${sends.filter((r) => r.ackAt > killAt).map(fmt).join('; ') || 'none'}; pending: ${sends.filter((r) => !r.outcome).map(fmt).join('; ') || 'none'})`,
    ).catch((err) => { throw new Error(err.message + stderrTail()); });
    t.diagnostic(`first UNAVAILABLE ack ${firstUnavailable.ackAt - killedAt} ms after the crash (send #${firstUnavailable.i}, sent ${firstUnavailable.sentAt - killedAt} ms after it, answered in ${firstUnavailable.ackAt - firstUnavailable.sentAt} ms)`);

    // A send in flight at the crash fails at once (its connection is reset); a send made
    // after it waits for server selection first.
    const firstFresh = await waitFor(
      () => sends.filter((r) => r.sentAt >= killedAt && r.outcome).sort((x, y) => x.ackAt - y.ackAt)[0],
      UNAVAILABLE_WITHIN_MS,
      'an answer to a send made after the crash',
    ).catch((err) => { throw new Error(err.message + stderrTail()); });
    check(firstFresh.outcome === 'unavailable', `first send made after the crash: ${fmt(firstFresh)}`);
    t.diagnostic(`first send made after the crash: ${firstFresh.outcome} ${firstFresh.ackAt - killedAt} ms after the crash (answered in ${firstFresh.ackAt - firstFresh.sentAt} ms)`);

    const rzStart = now();
    const rz = await readyz();
    t.diagnostic(`/readyz during the outage: ${rz.status} ${rz.text.trim()} (answered in ${now() - rzStart} ms)`);
    check(rz.status === 503, `/readyz during the outage: expected 503, got ${rz.status} ${rz.text}`);
    check(Array.isArray(rz.body?.failing) && rz.body.failing.includes('mongodb'),
      `/readyz 503 body must name the store in failing[]: ${rz.text}`);
    const hz = await healthz();
    check(hz.status === 200, `/healthz during the outage: expected 200, got ${hz.status} ${hz.text}`);
    check(srv.alive, `parley died during the outage: ${JSON.stringify(srv.exit)}`);

    await sleep(Math.max(0, killedAt + OUTAGE_MIN_MS - now()));
    check(srv.alive, `parley died during the outage: ${JSON.stringify(srv.exit)}`);
    const rz2 = await readyz();
    check(rz2.status === 503, `/readyz late in the outage: expected 503, got ${rz2.status} ${rz2.text}`);

    // ---- restart the database (same port, same data); Parley is not touched ----
    const restartAt = now();
    await ferret.start();
    const ferretUpAt = now();
    t.diagnostic(`ferretdb restarted on port ${ferret.port}: accepting at ${ferretUpAt - restartAt} ms after the restart began (outage ${restartAt - killedAt} ms)`);
    let readyAt;
    await waitFor(async () => {
      const r = await readyz();
      if (r.status === 200) { readyAt = now(); return true; }
      return false;
    }, RECOVERY_WITHIN_MS, '/readyz 200 after the database came back').catch((err) => { throw new Error(err.message + stderrTail()); });
    t.diagnostic(`/readyz back to 200 ${readyAt - ferretUpAt} ms after ferretdb accepted connections again`);

    await waitFor(
      () => sends.filter((r) => r.sentAt >= readyAt && r.outcome).length >= AFTER_RECOVERY_SENDS,
      15_000,
      `${AFTER_RECOVERY_SENDS} sends answered after recovery`,
    ).catch((err) => { throw new Error(err.message + stderrTail()); });
    stopTraffic = true;
    await traffic;
    await Promise.allSettled([...inflight]);

    // ---- what the traffic saw ----
    const count = (pred) => sends.filter(pred).length;
    const byOutcome = {};
    for (const r of sends) byOutcome[r.outcome] = (byOutcome[r.outcome] ?? 0) + 1;
    t.diagnostic(`${sends.length} sends: ${JSON.stringify(byOutcome)}`);
    const atCrash = sends.filter((r) => r.sentAt < killedAt && r.ackAt > killAt);
    t.diagnostic(`in flight at the crash: ${atCrash.map(fmt).join('; ') || 'none'}`);
    const outageAcks = sends.filter((r) => r.outcome === 'unavailable').map((r) => r.ackAt - r.sentAt);
    if (outageAcks.length) t.diagnostic(`UNAVAILABLE acks answered in ${Math.min(...outageAcks)}–${Math.max(...outageAcks)} ms`);
    const firstOkAfter = sends.filter((r) => r.sentAt >= restartAt && r.outcome === 'ok').sort((x, y) => x.ackAt - y.ackAt)[0];
    if (firstOkAfter) t.diagnostic(`first success after the restart: ack at ${firstOkAfter.ackAt - ferretUpAt} ms after ferretdb accepted connections`);

    for (const r of sends) {
      check(r.outcome === 'ok' || r.outcome === 'unavailable', `send must be acked success or UNAVAILABLE within ${ACK_TIMEOUT_MS} ms: ${fmt(r)}`);
      // Sent after the database was gone and answered before it was started again: nothing
      // can have stored it. (A send made during the outage may still succeed if the database
      // comes back while it waits for server selection: its write then happens after the restart.)
      if (r.sentAt >= killedAt && r.ackAt < restartAt) check(r.outcome !== 'ok', `success ack while the database was down: ${fmt(r)}`);
      if (r.sentAt >= readyAt) check(r.outcome === 'ok', `send after recovery (/readyz 200) failed: ${fmt(r)}`);
      if (r.outcome === 'ok') {
        check(r.res.message?.clientId === r.clientId && r.res.message?.text === r.text, `ack message does not match the send: ${fmt(r)}`);
      }
    }
    check(count((r) => r.sentAt >= killedAt && r.sentAt < restartAt && r.outcome === 'unavailable') >= 1, 'no UNAVAILABLE ack for a send made during the outage');
    const lateOk = sends.filter((r) => r.sentAt >= killedAt && r.sentAt < restartAt && r.outcome === 'ok');
    if (lateOk.length) t.diagnostic(`sent during the outage, succeeded once the database was back: ${lateOk.map((r) => `#${r.i} sent@${r.sentAt} ack@${r.ackAt}`).join(', ')} (restart began @${restartAt}, accepting @${ferretUpAt})`);
    check(srv.alive, `parley died: ${JSON.stringify(srv.exit)}`);

    // ---- retry every failed send with its clientId ----
    const retryStart = now();
    const toRetry = sends.filter((r) => r.outcome !== 'ok');
    let attempts = 0;
    const slowRetries = [];
    for (const r of toRetry) {
      for (;;) {
        attempts++;
        let res;
        const sentAt = now();
        try {
          res = await senders[0].ack('message:new', { chatId, text: r.text, clientId: r.clientId }, RETRY_ACK_TIMEOUT_MS);
        } catch (err) {
          res = { success: false, code: 'NO_ACK', error: err.message };
        }
        if (now() - sentAt > 1000) slowRetries.push(`#${r.i} (first ack ${r.outcome}) answered ${res.success ? 'success' : res.code} in ${now() - sentAt} ms`);
        if (res.success === true) { r.retried = res; break; }
        check(res.code === 'UNAVAILABLE', `retry of ${r.clientId} answered ${short(res)}`);
        if (res.code !== 'UNAVAILABLE' || now() - retryStart > RETRY_WITHIN_MS) { r.retryFailed = res; break; }
        await sleep(200);
      }
    }
    t.diagnostic(`retried ${toRetry.length} failed sends (${attempts} attempts) in ${now() - retryStart} ms${slowRetries.length ? `; slow: ${slowRetries.join(', ')}` : ''}`);
    for (const r of toRetry) {
      if (!check(r.retried, `retry of ${r.clientId} never succeeded: ${short(r.retryFailed)}`)) continue;
      check(r.retried.message.clientId === r.clientId && r.retried.message.text === r.text, `retry ack does not match the send: ${short(r.retried)}`);
    }

    // Everything the server sent the receiver before this marker has arrived.
    await barrier(senders[0], chatId, [cb]);

    // ---- the stored history ----
    const stored = [];
    for (let cursor = 0, pages = 0; ; pages++) {
      assert.ok(pages < 100, 'message:list paging does not end');
      const page = await cb.ok('message:list', { chatId, after: cursor, limit: 100 });
      stored.push(...page.messages);
      if (!page.hasMore) break;
      assert.ok(page.messages.length > 0, 'hasMore with an empty page');
      cursor = page.messages[page.messages.length - 1].seq;
    }
    const seqs = stored.map((m) => m.seq);
    for (let j = 1; j < seqs.length; j++) check(seqs[j] > seqs[j - 1], `seqs not strictly increasing at ${j}: ${seqs[j - 1]} then ${seqs[j]}`);
    const gaps = [];
    for (let j = 1; j < seqs.length; j++) if (seqs[j] !== seqs[j - 1] + 1) gaps.push(`${seqs[j - 1]}→${seqs[j]}`);
    const tombstones = stored.filter((m) => m.deleted).length;
    t.diagnostic(`stored: ${stored.length} messages, seq ${seqs[0]}..${seqs.at(-1)}, ${tombstones} deleted/tombstones, gaps: ${gaps.join(', ') || 'none'}`);

    const byId = new Map();
    const byClientId = new Map();
    for (const m of stored) {
      byId.set(m.id, (byId.get(m.id) ?? []).concat(m));
      if (m.clientId !== null) byClientId.set(m.clientId, (byClientId.get(m.clientId) ?? []).concat(m));
    }
    for (const [id, ms] of byId) check(ms.length === 1, `message id ${id} listed ${ms.length} times`);
    for (const [cid, ms] of byClientId) check(ms.length === 1, `clientId ${cid} stored ${ms.length} times: ${short(ms.map((m) => [m.id, m.seq]))}`);

    for (const r of sends) {
      const acked = r.outcome === 'ok' ? r.res.message : r.retried?.message;
      if (!acked) continue;
      const hit = byId.get(acked.id) ?? [];
      if (!check(hit.length === 1, `acked message ${acked.id} (${r.clientId}, seq ${acked.seq}) is not in message:list`)) continue;
      const m = hit[0];
      check(m.clientId === r.clientId && m.seq === acked.seq && m.text === r.text && !m.deleted,
        `stored message differs from its ack: stored ${short(m)} acked ${short(acked)}`);
      check((byClientId.get(r.clientId) ?? []).length === 1, `clientId ${r.clientId} not stored exactly once`);
    }
    const ours = new Set(sends.map((r) => r.clientId));
    for (const m of stored) {
      if (m.clientId !== null) check(ours.has(m.clientId), `stored message with an unknown clientId: ${short(m)}`);
    }

    // ---- live events to the receiver ----
    const liveIds = new Map();
    const liveCids = new Map();
    for (const { message: m } of live) {
      liveIds.set(m.id, (liveIds.get(m.id) ?? 0) + 1);
      if (m.clientId !== null) liveCids.set(m.clientId, (liveCids.get(m.clientId) ?? 0) + 1);
      check(byId.has(m.id), `receiver got message:new for a message that is not stored: ${short(m)}`);
    }
    for (const [id, n] of liveIds) check(n === 1, `receiver got message:new for ${id} ${n} times`);
    for (const [cid, n] of liveCids) check(n === 1, `receiver got message:new for clientId ${cid} ${n} times`);
    let missedLive = 0;
    for (const r of sends) {
      if (r.outcome !== 'ok') continue;
      if (!liveIds.has(r.res.message.id)) {
        missedLive++;
        // Outside the outage window there is no excuse for a missing live event.
        check(r.ackAt >= killAt && r.sentAt < readyAt, `receiver never got message:new for ${fmt(r)}`);
      }
    }
    t.diagnostic(`receiver: ${live.length} live message:new (${missedLive} first-try successes not delivered live)`);
    for (const s of senders) check(s.duplicateAcks().length === 0, `${s.label}: acks answered twice: ${s.duplicateAcks()}`);
    check(srv.alive, `parley died: ${JSON.stringify(srv.exit)}`);
  } finally {
    stopTraffic = true;
    await traffic;
    await Promise.allSettled([...inflight]);
  }

  assert.deepEqual(problems, [], `${problems.length} problem(s):\n${problems.slice(0, 40).join('\n')}${stderrTail()}`);
});
