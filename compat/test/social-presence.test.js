// Presence: presence:update (friends and chat partners only, real changes only, reload grace),
// presence:get, User.online/lastSeen visibility in user:get/user:search, the real 5 s
// defaults, and presence/events across two nodes joined by Redis.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mongoMode, startServer, stopServer } from '../lib/server.js';
import { connect } from '../lib/client.js';
import { assertErr, assertUser, barrier, newUsers } from '../lib/fixtures.js';
import { startCluster } from '../lib/cluster.js';
import {
  assertPresence, befriend, closeSettled, eventsSince, mark, nextAt, presenceOf, requestBetween, requestIs, textIs, typingIn,
} from '../lib/social.js';

const GRACE = 600;
const TYPING = 1500;
// Timers start when the server processes an event, which is after the client sent it, so
// an event can never be early by more than timer granularity; this slack covers that.
const EARLY_SLACK = 50;

/** Marks every presence:update received so far as consumed (events caused by the set-up). */
function drainPresence(client) {
  for (const e of client.events) if (e.name === 'presence:update') e.consumed = true;
}

/** presence:update events about `userId` since mark `m`. */
function presenceSince(client, m, userId) {
  return eventsSince(client, m).filter((e) => e.name === 'presence:update' && e.payload?.userId === userId).map((e) => e.payload);
}

function assertOffline(p, t0, at, what) {
  assertPresence(p, what);
  assert.equal(p.online, false, `${what}.online`);
  assert.notEqual(p.lastSeen, null, `${what}: an offline update carries lastSeen`);
  const ls = Date.parse(p.lastSeen);
  assert.ok(ls >= t0 - 2000 && ls <= at + 1000, `${what}.lastSeen ${p.lastSeen} is not around the disconnect (${new Date(t0).toISOString()})`);
}

async function presenceMap(sock, userIds) {
  const res = await sock.ok('presence:get', { userIds });
  assert.ok(Array.isArray(res.presence), `presence must be an array: ${JSON.stringify(res)}`);
  res.presence.forEach((p, i) => assertPresence(p, `presence[${i}]`));
  const map = new Map(res.presence.map((p) => [p.userId, p]));
  assert.deepEqual([...map.keys()].sort(), [...new Set(userIds)].sort(), 'one entry per requested user');
  assert.equal(res.presence.length, map.size, 'no duplicate entries');
  return map;
}

describe('single node', () => {
  let srv;
  before(async () => { srv = await startServer({ env: { PRESENCE_GRACE_MS: GRACE, TYPING_TIMEOUT_MS: TYPING } }); });
  after(async () => { await stopServer(srv); });

  test('presence:update reaches friends and chat partners (direct and group) when a user goes offline and comes back; never strangers', async () => {
    const [a, f, p, q, s, h] = await newUsers(srv, 6);
    const [f1, p1, q1, s1, h1] = await Promise.all([f, p, q, s, h].map((u) => u.connect()));
    const a1 = await a.connect();
    await befriend(a1, f1, f.id);
    await a1.ok('chat:create', { type: 'direct', participantId: p.id });
    const qGroup = (await p1.ok('chat:create', { type: 'group', name: 'with a', participantIds: [a.id, q.id] })).chat;
    const hs = (await h1.ok('chat:create', { type: 'direct', participantId: s.id })).chat; // s's barrier channel
    const watchers = [f1, p1, q1];
    for (const c of [...watchers, s1, h1]) drainPresence(c);
    const sm = mark(s1);
    const hm = mark(h1);
    const wm = watchers.map(mark);

    const t0 = Date.now();
    const offs = watchers.map((c) => nextAt(c, 'presence:update', presenceOf(a.id, false), 10_000));
    a1.close();
    for (const [i, { payload, at }] of (await Promise.all(offs)).entries()) {
      assertOffline(payload, t0, at, `${watchers[i].label} presence:update`);
      assert.ok(at - t0 >= GRACE - EARLY_SLACK, `${watchers[i].label}: offline came ${at - t0} ms after the close, before the ${GRACE} ms grace`);
    }

    const ons = watchers.map((c) => c.next('presence:update', presenceOf(a.id, true)));
    const a2 = await a.connect();
    for (const ev of await Promise.all(ons)) {
      assertPresence(ev);
      assert.equal(ev.online, true);
    }
    await barrier(h1, hs.id, [s1]);
    await barrier(p1, qGroup.id, [q1]);
    assert.deepEqual(presenceSince(s1, sm, a.id), [], 'a stranger got presence:update');
    assert.deepEqual(presenceSince(h1, hm, a.id), [], 'a stranger got presence:update');
    watchers.forEach((c, i) => assert.deepEqual(presenceSince(c, wm[i], a.id).map((x) => x.online), [false, true], `${c.label}: one offline, then one online`));
    a2.close();
  });

  test('only on a real change: a second tab and closing one of two tabs send nothing; the last tab closing sends offline after the grace; coming back sends online', async () => {
    const [a, f, h] = await newUsers(srv, 3);
    const f1 = await f.connect();
    const h1 = await h.connect();
    const a1 = await a.connect();
    await befriend(a1, f1, f.id);
    const hf = (await h1.ok('chat:create', { type: 'direct', participantId: f.id })).chat;
    drainPresence(f1);
    const m = mark(f1);

    const a2 = await a.connect(); // second tab: no change
    await a2.ok('user:me', {});
    a2.close(); // one of two tabs: no change
    const t0 = Date.now();
    const off = nextAt(f1, 'presence:update', presenceOf(a.id, false), 10_000);
    a1.close(); // the last tab
    const { payload, at } = await off;
    assertOffline(payload, t0, at, 'presence:update');
    assert.ok(at - t0 >= GRACE - EARLY_SLACK, `offline came ${at - t0} ms after the last close, before the ${GRACE} ms grace`);

    const on = f1.next('presence:update', presenceOf(a.id, true));
    const a3 = await a.connect();
    await on;
    await barrier(h1, hf.id, [f1]);
    assert.deepEqual(presenceSince(f1, m, a.id).map((x) => x.online), [false, true],
      'exactly one offline then one online: the second tab and the first close must send nothing');
    a3.close();
  });

  test('a reload (disconnect then reconnect within the grace) sends no offline/online flicker', async () => {
    const [a, z, f, h] = await newUsers(srv, 4);
    const f1 = await f.connect();
    const h1 = await h.connect();
    const a1 = await a.connect();
    const z1 = await z.connect();
    await befriend(a1, f1, f.id);
    await befriend(z1, f1, f.id);
    const hf = (await h1.ok('chat:create', { type: 'direct', participantId: f.id })).chat;
    drainPresence(f1);
    const m = mark(f1);

    a1.close();
    const a2 = await a.connect(); // the reload
    // Positive control: z disconnects for good right after a's reload; z's offline is due one
    // grace later, after any (wrong) offline for a, whose timer started earlier.
    const tz = Date.now();
    const offZ = nextAt(f1, 'presence:update', presenceOf(z.id, false), 10_000);
    z1.close();
    const { at } = await offZ;
    assert.ok(at - tz >= GRACE - EARLY_SLACK, `z's offline came ${at - tz} ms after the close`);
    await barrier(h1, hf.id, [f1]);
    assert.deepEqual(presenceSince(f1, m, a.id), [], 'the reload caused presence:update events');
    const pm = await presenceMap(f1, [a.id]);
    assert.equal(pm.get(a.id).online, true);
    a2.close();
  });

  test('presence:get, user:get and user:search: friends, chat partners and the user themself see online/lastSeen; strangers see online:false, lastSeen:null', async () => {
    const [v, a, o, p, q, s] = await newUsers(srv, 6);
    const [v1, a1, o1, p1, q1, s1] = await Promise.all([v, a, o, p, q, s].map((u) => u.connect()));
    await befriend(v1, a1, a.id); // friend, online
    await befriend(o1, v1, v.id); // friend, goes offline
    await v1.ok('chat:create', { type: 'direct', participantId: p.id }); // direct partner
    await p1.ok('chat:create', { type: 'group', name: 'q and v', participantIds: [q.id, v.id] }); // group partner (of v; p created it)
    const off = v1.next('presence:update', presenceOf(o.id, false), 10_000);
    o1.close();
    const offEv = await off;

    const all = [v.id, a.id, o.id, p.id, q.id, s.id];
    const seen = await presenceMap(v1, all);
    assert.equal(seen.get(v.id).online, true, 'the user themself');
    assert.equal(seen.get(a.id).online, true, 'online friend');
    assert.equal(seen.get(o.id).online, false, 'offline friend');
    assert.notEqual(seen.get(o.id).lastSeen, null, 'an offline friend shows lastSeen');
    assert.equal(seen.get(p.id).online, true, 'direct chat partner');
    assert.equal(seen.get(q.id).online, true, 'group chat partner');
    assert.deepEqual([seen.get(s.id).online, seen.get(s.id).lastSeen], [false, null], 'a stranger is hidden');
    assert.equal(Math.abs(Date.parse(seen.get(o.id).lastSeen) - Date.parse(offEv.lastSeen)) < 1000, true, 'presence:get and presence:update agree on lastSeen');

    // The stranger's view of everyone: hidden, although v, a, p, q are connected.
    const bySt = await presenceMap(s1, [v.id, a.id, o.id, p.id, q.id]);
    for (const [id, pr] of bySt) assert.deepEqual([pr.online, pr.lastSeen], [false, null], `stranger sees ${id}`);
    // q shares a chat with v only, not with a.
    const byQ = await presenceMap(q1, [v.id, p.id, a.id]);
    assert.equal(byQ.get(v.id).online, true);
    assert.equal(byQ.get(p.id).online, true);
    assert.deepEqual([byQ.get(a.id).online, byQ.get(a.id).lastSeen], [false, null]);

    // user:get follows the same rule.
    const get = async (sock, id) => { const { user } = await sock.ok('user:get', { userId: id }); assertUser(user); return user; };
    assert.equal((await get(v1, a.id)).online, true);
    const oByV = await get(v1, o.id);
    assert.equal(oByV.online, false);
    assert.equal(oByV.lastSeen, seen.get(o.id).lastSeen, 'user:get and presence:get agree');
    assert.equal((await get(v1, p.id)).online, true);
    assert.equal((await get(v1, q.id)).online, true);
    const sByV = await get(v1, s.id);
    assert.deepEqual([sByV.online, sByV.lastSeen], [false, null]);
    for (const id of [v.id, a.id, o.id, p.id]) {
      const u = await get(s1, id);
      assert.deepEqual([u.online, u.lastSeen], [false, null], `user:get by a stranger of ${id}`);
    }
    assert.equal((await v1.ok('user:me', {})).user.online, true);

    // user:search too.
    const search = async (sock, u) => (await sock.ok('user:search', { query: u.handle })).users.find((x) => x.id === u.id);
    assert.equal((await search(v1, a)).online, true);
    assert.equal((await search(v1, o)).lastSeen, seen.get(o.id).lastSeen);
    for (const u of [v, a, o]) {
      const found = await search(s1, u);
      assert.deepEqual([found.online, found.lastSeen], [false, null], `user:search by a stranger of ${u.handle}`);
    }

    // Chat participants carry presence too (chat partners).
    const chats = (await v1.ok('chat:list', {})).chats;
    const pp = chats.flatMap((c) => c.participants).find((u) => u.id === p.id);
    assert.equal(pp.online, true);
  });

  test('a user with a tab that stays open stays online while other tabs close during deliveries', { timeout: 60_000 }, async () => {
    const [a, b, z] = await newUsers(srv, 3);
    const a1 = await a.connect();
    const keep = await b.connect(); // stays connected throughout
    const z1 = await z.connect();
    const chatId = (await a1.ok('chat:create', { type: 'direct', participantId: b.id })).chat.id;
    await a1.ok('chat:create', { type: 'direct', participantId: z.id });
    drainPresence(a1);
    const m = mark(a1);
    // 200 short-lived extra tabs of b, each closing while a message to b is on its way.
    for (let i = 0; i < 200; i++) {
      const tab = await b.connect();
      const sent = a1.ok('message:new', { chatId, text: `churn ${i}` });
      setTimeout(() => tab.close(), i % 4);
      await sent;
    }
    // Positive control: z goes offline for good now; its offline comes one grace later,
    // after any (wrong) offline for b caused by the churn above.
    const offZ = a1.next('presence:update', presenceOf(z.id, false), 10_000);
    z1.close();
    await offZ;
    await barrier(keep, chatId, [a1]);
    assert.deepEqual(presenceSince(a1, m, b.id), [], 'b, with a tab connected all along, was reported offline');
    assert.equal((await presenceMap(a1, [b.id])).get(b.id).online, true, 'presence:get: b has a connected tab');
    assert.equal((await a1.ok('user:get', { userId: b.id })).user.online, true, 'user:get: b has a connected tab');
    // And b, connected, gets no message notifications for what reached its open tab.
    assert.equal(keep.received('message:new').length >= 200, true);
    const notes = await keep.ok('notification:list', {});
    assert.deepEqual(notes.notifications.filter((n) => n.type === 'message').map((n) => n.data.count), [],
      'message notifications were stored for a user who had a socket connected');
  });

  test('presence:get validates its payload', async () => {
    const [a] = await newUsers(srv, 1);
    const a1 = await a.connect();
    assertErr(await a1.ack('presence:get', {}), 'VALIDATION_ERROR', '{}');
    assertErr(await a1.ack('presence:get', { userIds: 'x' }), 'VALIDATION_ERROR', 'string');
    assertErr(await a1.ack('presence:get', { userIds: [1, 2] }), 'VALIDATION_ERROR', 'numbers');
  });
});

describe('real defaults (PRESENCE_GRACE_MS and TYPING_TIMEOUT_MS unset: 5 s)', () => {
  test('offline 5 s after the last socket closes; a reload within 5 s sends no flicker; typing ends 5 s after typing:start', { timeout: 60_000 }, async () => {
    const d = await startServer({ env: { PRESENCE_GRACE_MS: null, TYPING_TIMEOUT_MS: null } });
    try {
      const [a, z, f, t] = await newUsers(d, 4);
      const [a1, z1, f1, t1] = await Promise.all([a, z, f, t].map((u) => u.connect()));
      await befriend(a1, f1, f.id);
      await befriend(z1, f1, f.id);
      const tf = (await t1.ok('chat:create', { type: 'direct', participantId: f.id })).chat;
      drainPresence(f1);
      const m = mark(f1);

      const startSeen = f1.next('typing:start', typingIn(tf.id, t.id));
      await t1.ok('typing:start', { chatId: tf.id });
      const ts = Date.now();
      const stopP = nextAt(f1, 'typing:stop', typingIn(tf.id, t.id), 15_000);
      await startSeen;

      a1.close();
      const a2 = await a.connect(); // reload, well within 5 s
      const tz = Date.now();
      const offZ = nextAt(f1, 'presence:update', presenceOf(z.id, false), 15_000);
      z1.close();

      const [stop, off] = await Promise.all([stopP, offZ]);
      assert.ok(stop.at - ts >= 5000 - EARLY_SLACK && stop.at - ts <= 5000 + 2000, `typing:stop came ${stop.at - ts} ms after typing:start (want 5 s)`);
      assert.equal(stop.payload.userId, t.id);
      assert.ok(off.at - tz >= 5000 - EARLY_SLACK && off.at - tz <= 5000 + 3000, `offline came ${off.at - tz} ms after the close (want 5 s)`);
      assertOffline(off.payload, tz, off.at, 'presence:update');
      await barrier(t1, tf.id, [f1]);
      assert.deepEqual(presenceSince(f1, m, a.id), [], 'the reload caused presence:update events');
      a2.close();
    } finally {
      await stopServer(d);
    }
  });
});

// In Mongo mode the store is FerretDB 1.24, whose updates are not atomic across processes
// (Parley serialises them per document within one process only): several nodes need a
// real MongoDB, so the multi-node tests run on SQLite (two processes, one WAL file).
describe('two nodes joined by Redis', { skip: mongoMode && 'several nodes need a real MongoDB: FerretDB updates are not atomic across processes' }, () => {
  let cluster;
  let n1;
  let n2;
  before(async () => {
    cluster = await startCluster({ env: { PRESENCE_GRACE_MS: GRACE, TYPING_TIMEOUT_MS: TYPING } });
    [n1, n2] = cluster.nodes;
  });
  after(async () => { await cluster?.stop(); });

  const on = (node, u, tag) => connect(node, u.token, { label: `${u.handle}@${tag}` });

  test('a user connected to node A is online for a friend on node B, and offline there after the grace when the socket on A closes', async () => {
    const [a, f] = await newUsers(n1, 2);
    const a1 = await on(n1, a, 'n1');
    const f2 = await on(n2, f, 'n2');
    // Friend request events cross nodes.
    const reqNew = f2.next('friend:request:new', requestBetween(a.id, f.id));
    const { request } = await a1.ok('friend:request:send', { userId: f.id });
    await reqNew;
    const acc = a1.next('friend:request:accepted', requestIs(request.id));
    await f2.ok('friend:request:accept', { requestId: request.id });
    await acc;

    assert.equal((await presenceMap(f2, [a.id])).get(a.id).online, true, 'presence:get on node B');
    assert.equal((await f2.ok('user:get', { userId: a.id })).user.online, true, 'user:get on node B');
    drainPresence(f2);

    const t0 = Date.now();
    const off = nextAt(f2, 'presence:update', presenceOf(a.id, false), 10_000);
    a1.close();
    const { payload, at } = await off;
    assertOffline(payload, t0, at, 'presence:update on node B');
    assert.ok(at - t0 >= GRACE - EARLY_SLACK, `offline came ${at - t0} ms after the close`);
    const after = (await presenceMap(f2, [a.id])).get(a.id);
    assert.equal(after.online, false);
    assert.notEqual(after.lastSeen, null);

    const back = f2.next('presence:update', presenceOf(a.id, true));
    const a1b = await on(n1, a, 'n1');
    await back;
    assert.equal((await presenceMap(f2, [a.id])).get(a.id).online, true);
    a1b.close();
  });

  test('a user is online while any socket on any node is connected', async () => {
    const [a, f, z, h] = await newUsers(n1, 4);
    const a1 = await on(n1, a, 'n1');
    const a2 = await on(n2, a, 'n2');
    const f2 = await on(n2, f, 'n2');
    const f1 = await on(n1, f, 'n1');
    const z1 = await on(n1, z, 'n1');
    const h1 = await on(n1, h, 'n1');
    await befriend(a1, f2, f.id);
    await befriend(z1, f2, f.id);
    const hf = (await h1.ok('chat:create', { type: 'direct', participantId: f.id })).chat;
    drainPresence(f2);
    drainPresence(f1);
    const m2 = mark(f2);
    const m1 = mark(f1);

    a1.close(); // a keeps a2 on node B
    await f1.ok('presence:get', { userIds: [a.id] }); // a round trip on node A before the control
    const tz = Date.now();
    const offZ = nextAt(f2, 'presence:update', presenceOf(z.id, false), 10_000);
    z1.close();
    const { at } = await offZ;
    assert.ok(at - tz >= GRACE - EARLY_SLACK);
    await barrier(h1, hf.id, [f1, f2]);
    assert.deepEqual(presenceSince(f2, m2, a.id), [], 'closing one of two sockets (on different nodes) changed presence (seen on node B)');
    assert.deepEqual(presenceSince(f1, m1, a.id), [], 'closing one of two sockets (on different nodes) changed presence (seen on node A)');
    // Asked on node A, where a has no socket any more.
    assert.equal((await presenceMap(f1, [a.id])).get(a.id).online, true, 'presence:get on the node without a\'s socket');
    assert.equal((await f1.ok('user:get', { userId: a.id })).user.online, true, 'user:get on the node without a\'s socket');

    const t0 = Date.now();
    const offs = [f1, f2].map((c) => nextAt(c, 'presence:update', presenceOf(a.id, false), 10_000));
    a2.close();
    for (const { payload, at: t } of await Promise.all(offs)) {
      assertOffline(payload, t0, t, 'presence:update');
      assert.ok(t - t0 >= GRACE - EARLY_SLACK);
    }
    assert.equal((await presenceMap(f1, [a.id])).get(a.id).online, false);
  });

  test('messages, typing, chat, read and user events cross nodes; a user\'s tabs on both nodes get everything', async () => {
    const [a, b] = await newUsers(n1, 2);
    const a1 = await on(n1, a, 'n1');
    const a2 = await on(n2, a, 'n2');
    const b2 = await on(n2, b, 'n2');

    const chatNews = [a2, b2].map((c) => c.next('chat:new', (p) => p?.chat?.name === 'Across'));
    const chat = (await a1.ok('chat:create', { type: 'group', name: 'Across', participantIds: [b.id] })).chat;
    for (const ev of await Promise.all(chatNews)) assert.equal(ev.chat.id, chat.id);

    // Messages, both ways, right after the create (room membership on both nodes).
    let waits = [a1, a2].map((c) => c.next('message:new', textIs('from b on n2')));
    await b2.ok('message:new', { chatId: chat.id, text: 'from b on n2' });
    await Promise.all(waits);
    waits = [a2, b2].map((c) => c.next('message:new', textIs('from a on n1')));
    const { message } = await a1.ok('message:new', { chatId: chat.id, text: 'from a on n1' });
    await Promise.all(waits);

    // Typing across nodes, never to the typist's tab on the other node.
    const ts = b2.next('typing:start', typingIn(chat.id, a.id));
    await a1.ok('typing:start', { chatId: chat.id });
    const tsev = await ts;
    assert.deepEqual([tsev.user.id, tsev.user.name, tsev.user.handle], [a.id, a.name, a.handle]);
    const tstop = b2.next('typing:stop', typingIn(chat.id, a.id));
    await a1.ok('typing:stop', { chatId: chat.id });
    assert.equal((await tstop).userId, a.id);
    // b types on n2: a's sockets on both nodes see the start, then the timeout's stop.
    const bs = [a1, a2].map((c) => c.next('typing:start', typingIn(chat.id, b.id)));
    await b2.ok('typing:start', { chatId: chat.id });
    const t0 = Date.now();
    await Promise.all(bs);
    const stops = await Promise.all([a1, a2].map((c) => nextAt(c, 'typing:stop', typingIn(chat.id, b.id), TYPING + 5000)));
    for (const s of stops) assert.ok(s.at - t0 >= TYPING - 2 * EARLY_SLACK, `typing:stop after ${s.at - t0} ms`);

    // message:read and user:updated.
    const read = a1.next('message:read', (p) => p?.chatId === chat.id && p?.userId === b.id);
    await b2.ok('message:read', { chatId: chat.id, seq: message.seq });
    assert.equal((await read).readSeq, message.seq);
    const upd = [b2, a2].map((c) => c.next('user:updated', (p) => p?.user?.id === a.id));
    await a1.ok('user:update', { name: 'A Across' });
    for (const ev of await Promise.all(upd)) assert.equal(ev.user.name, 'A Across');

    await barrier(b2, chat.id, [a1, a2]);
    for (const c of [a1, a2]) assert.equal(c.received('typing:start', typingIn(chat.id, a.id)).length, 0, `${c.label}: the typist's own socket got typing:start`);
    for (const c of [a1, a2]) assert.equal(c.received('typing:stop', typingIn(chat.id, a.id)).length, 0, `${c.label}: the typist's own socket got typing:stop`);
  });

  test('notifications across nodes: a recipient connected only to the other node gets the message live and no notification; with no socket anywhere, a notification', async () => {
    const [a, b] = await newUsers(n1, 2);
    const a1 = await on(n1, a, 'n1');
    const b2 = await on(n2, b, 'n2');
    const chat = (await a1.ok('chat:create', { type: 'direct', participantId: b.id })).chat;
    const live = b2.next('message:new', textIs('live across nodes'));
    await a1.ok('message:new', { chatId: chat.id, text: 'live across nodes' });
    await live;
    const none = await b2.ok('notification:list', {});
    assert.deepEqual(none.notifications.map((n) => n.type), [], 'a connected recipient (on another node) got a notification');
    assert.equal(none.unreadCount, 0);

    await closeSettled(n2, b2);
    const { message } = await a1.ok('message:new', { chatId: chat.id, text: 'while b is away' });
    const b1 = await on(n1, b, 'n1');
    const waitNew = b1.next('notification:new', (p) => p?.notification?.data?.lastMessageId === message.id, 5000).catch(() => null);
    let list = await b1.ok('notification:list', {});
    let note = list.notifications.find((n) => n.type === 'message' && n.data.lastMessageId === message.id);
    if (!note) {
      // Stored after the ack: it then reaches b1 as notification:new (b1 connected in the meantime).
      await waitNew;
      list = await b1.ok('notification:list', {});
      note = list.notifications.find((n) => n.type === 'message' && n.data.lastMessageId === message.id);
    }
    assert.ok(note, `no notification for the message sent while b had no socket: ${JSON.stringify(list)}`);
    assert.equal(note.data.chatId, chat.id);
    // 1, or 2 if the server also counts 'live across nodes': it was delivered only moments
    // before b's socket closed, and a server cannot know whether a packet written just before
    // a close reached the client, so covering it too is how it keeps "live or notified".
    assert.ok(note.data.count === 1 || note.data.count === 2, `count ${note.data.count}`);
  });
});
