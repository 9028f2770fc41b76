// The delivery race: the recipient's only socket disconnects while a message is being sent
// to them. Every iteration must end with the message delivered live (message:new received
// before the disconnect) or a stored notification covering it — never neither.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mongoMode, startServer, stopServer } from '../lib/server.js';
import { unlimitedEvents } from '../lib/limits.js';
import { newUsers } from '../lib/fixtures.js';
import { connectedSockets, presenceOf, sleep } from '../lib/social.js';

const LANES = 4; // independent sender/recipient pairs racing at the same time
// LANES * PER_LANE = 1,000 iterations on SQLite. On FerretDB (Mongo mode), which scans
// collections for most queries, the same rule is checked over 252 rounds: 1,000 took
// ~210 s there and kept the 2-core machine saturated (in one run of four, a long-lived
// sender socket was closed by a transport error under that load; see the closing note).
const PER_LANE = mongoMode ? 63 : 250;
const GRACE = 50;
const VARIANTS = ['close, then send', 'send, then close', 'send, close on setImmediate', 'send, close after 1 ms', 'send, close after 2 ms', 'send, close after 3 ms'];
const DROPPED = Symbol('dropped');

/** Resolves once `client` has been closed (the deferred close may still be pending). */
function closedBy(client) {
  return new Promise((resolve) => {
    const check = () => (client.socket.connected ? setTimeout(check, 1) : resolve());
    check();
  });
}

/** Resolves with DROPPED when the server (not the test) ends `client`'s connection. */
function dropOf(client) {
  return new Promise((resolve) => {
    if (!client.socket.connected) { resolve(DROPPED); return; }
    client.socket.once('disconnect', (reason) => { if (reason !== 'io client disconnect') resolve(DROPPED); });
  });
}

let srv;
before(async () => {
  srv = await startServer({
    env: {
      // Small: each iteration waits for the recipient's offline presence:update (the server's
      // word that it has processed the disconnect of the recipient's only socket) before the
      // recipient reconnects, so the grace is paid 1,000 times.
      PRESENCE_GRACE_MS: GRACE,
      TYPING_TIMEOUT_MS: 1000,
      // Not under test: keep the event limits out of the way of the sender.
      ...unlimitedEvents,
    },
  });
});
after(async () => { await stopServer(srv); });

async function lane(li, stats) {
  const [a, b] = await newUsers(srv, 2);
  const a1 = await a.connect();
  const chatId = (await a1.ok('chat:create', { type: 'direct', participantId: b.id })).chat.id;
  let i = 0;
  // Every socket of b is watched: the server must never end one by itself (that is a bug of
  // its own, counted apart from the race's outcome).
  const connectB = async () => {
    const c = await b.connect();
    const t0 = Date.now();
    c.socket.on('disconnect', (reason, details) => {
      if (reason !== 'io client disconnect') {
        stats.dropped.push({ lane: li, i, reason, afterMs: Date.now() - t0, details: details?.description ?? null, events: c.events.map((e) => e.name) });
      }
    });
    return c;
  };
  // After a drop b went offline (or will, after the grace) through no action of the test:
  // let that offline presence:update pass and discard it, so the next iteration waits for
  // its own. A bounded wait is unavoidable here, and only on this abnormal path.
  const settleAfterDrop = async () => {
    await sleep(GRACE * 6);
    for (const e of a1.events) if (e.name === 'presence:update') e.consumed = true;
  };

  let bs = await connectB();
  for (; i < PER_LANE; i++) {
    const text = `race ${li}-${i}`;
    const offline = a1.next('presence:update', presenceOf(b.id, false), 3000);
    // The two actions start together, with no await in between: the close goes before the
    // send, right after it, or is scheduled a little later (up to a few ms: about the time
    // the broadcast takes to come back), so it lands on either side of the delivery.
    const variant = i % VARIANTS.length;
    let ackP;
    if (variant === 0) {
      bs.close();
      ackP = a1.ack('message:new', { chatId, text }, 15_000);
    } else {
      ackP = a1.ack('message:new', { chatId, text }, 15_000);
      const closing = bs;
      if (variant === 1) closing.close();
      else if (variant === 2) setImmediate(() => closing.close());
      else setTimeout(() => closing.close(), variant - 2);
    }
    const res = await ackP;
    assert.equal(res?.success, true, `lane ${li} iteration ${i}: send failed: ${JSON.stringify(res)}`);
    const msg = res.message;
    await closedBy(bs);
    // socket.io-client drops every packet after disconnect(): anything recorded arrived before.
    const live = bs.received('message:new', (p) => p?.message?.id === msg.id).length > 0;

    // Reconnect only once the server has processed the disconnect (the sender, a chat
    // partner, sees b go offline after the grace) and the send was acked: the socket that
    // closed was b's only one, and the new socket cannot get the message live.
    if (await offline.then(() => true, () => false) === false) {
      // No offline presence:update within 3 s (60 graces) of the close: a presence bug of its
      // own. Note it, and go on (the race's outcome is still checked).
      stats.noOffline.push({ lane: li, i, order: VARIANTS[variant], dropsSoFar: stats.dropped.length });
      assert.ok(stats.noOffline.length < 6, `b's only socket closed ${stats.noOffline.length} times without presence:update offline: ${JSON.stringify(stats.noOffline)}; fresh sockets dropped by the server so far: ${JSON.stringify(stats.dropped)}`);
    }
    let next = await connectB();
    stats.byVariant[variant][live ? 0 : 1]++;
    if (live) {
      stats.live++;
    } else {
      const isIt = (n) => n?.type === 'message' && n.data?.chatId === chatId && !n.read && n.data?.lastMessageId === msg.id && n.data?.count >= 1;
      let note = null;
      let list = null;
      for (let attempt = 0; ; attempt++) {
        const drop = dropOf(next);
        const pushed = next.next('notification:new', (p) => isIt(p?.notification), 3000).catch(() => null);
        list = await Promise.race([next.ok('notification:list', { unreadOnly: true, limit: 100 }), drop]);
        if (list !== DROPPED) {
          note = list.notifications.find(isIt) ?? (await Promise.race([pushed, drop]))?.notification ?? null;
          // Start the next iteration with nothing unread, so a notification can only be a new one.
          const read = await Promise.race([next.ok('notification:read', { all: true }), drop]);
          if (read !== DROPPED) break;
        }
        assert.ok(attempt < 3, `lane ${li} iteration ${i}: b's fresh sockets keep being dropped by the server`);
        next.close();
        await settleAfterDrop();
        next = await connectB();
      }
      if (note) {
        stats.notified++;
      } else {
        stats.neither.push({ lane: li, i, order: VARIANTS[variant], messageId: msg.id, seq: msg.seq, unread: list.notifications.filter((n) => n.data?.chatId === chatId) });
      }
    }
    if (!next.socket.connected) { // dropped right after connecting
      next.close();
      await settleAfterDrop();
      next = await connectB();
    }
    bs = next;
  }
  bs.close();
}

// FerretDB (Mongo mode) scans whole collections for most queries, so the same 1,000
// rounds take several times longer there than on SQLite.
test(`${LANES * PER_LANE} disconnect-while-sending races: delivered live or notified, never neither`, { timeout: mongoMode ? 600_000 : 110_000 }, async () => {
  const stats = { live: 0, notified: 0, neither: [], dropped: [], noOffline: [], byVariant: VARIANTS.map(() => [0, 0]) };
  const started = Date.now();
  try {
    await Promise.all(Array.from({ length: LANES }, (_, li) => lane(li, stats)));
  } finally {
    // Diagnostic only (not part of PROTOCOL.md): the node's socket gauge once the test's
    // sockets are closed (each lane's sender is still connected: LANES expected).
    const gauge = await connectedSockets(srv).catch((e) => e.message);
    process.stderr.write(`social-race details: parley_connected_sockets=${gauge} (expected ${LANES}); dropped ${JSON.stringify(stats.dropped.slice(0, 5))}; missing offline ${JSON.stringify(stats.noOffline.slice(0, 5))}\n`);
  }
  process.stderr.write(`social-race: ${LANES * PER_LANE} iterations in ${Date.now() - started} ms: ${stats.live} live, ${stats.notified} notified, `
    + `${stats.neither.length} neither, ${stats.dropped.length} fresh sockets dropped by the server; live/not live by variant: `
    + `${VARIANTS.map((v, k) => `${v} ${stats.byVariant[k].join('/')}`).join(', ')}\n`);
  assert.equal(stats.live + stats.notified + stats.neither.length, LANES * PER_LANE);
  assert.deepEqual(stats.neither.slice(0, 5), [], `${stats.neither.length} of ${LANES * PER_LANE} messages were neither delivered live nor notified (first 5 shown)`);
  // A fresh socket closed by the server ~1 ms after connecting was a race in the Socket.IO
  // library (CONNECT written before the socket was registered with its client; patched in
  // third_party/socket.io-servers-socket). Drops are reported above; a handful is
  // tolerated so that one stray transport fault on a loaded CI machine does not hide the
  // real check (never neither), but more means the race is back.
  assert.ok(stats.dropped.length <= 3, `the server ended ${stats.dropped.length} of b's sockets by itself (first 5: ${JSON.stringify(stats.dropped.slice(0, 5))})`);
  assert.deepEqual(stats.noOffline.slice(0, 5), [], `${stats.noOffline.length} closes of b's only socket were never followed by presence:update offline (first 5 shown)`);
});
