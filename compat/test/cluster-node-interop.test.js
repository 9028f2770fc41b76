// Interop with a Node.js cluster: a Node socket.io 4.8 node on the classic
// @socket.io/redis-adapter 8.x (lib/node-peer.js, createAdapter(pubClient, subClient) on
// node-redis v4) and a Parley node share one Redis, so a Node cluster can be replaced node
// by node. Both ways: Parley's room broadcasts and socketsJoin/socketsLeave reach the Node
// node's sockets, and the Node node's broadcasts (one room, except) and
// socketsJoin/socketsLeave reach Parley's sockets. Membership on the other node is checked
// through the Node node itself: its local sockets' rooms, and fetchSockets(), which asks
// Parley over Redis (REMOTE_FETCH). Negative checks end with a marker on the same path.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mongoMode, startServer, stopServer } from '../lib/server.js';
import { startRedis } from '../lib/redis.js';
import { connect } from '../lib/client.js';
import { newUsers } from '../lib/fixtures.js';
import { chatIs, textIs } from '../lib/social.js';
import { startNodePeer, stopNodePeer, waitUntil } from '../lib/peer.js';

const tag = () => randomBytes(4).toString('hex');
const labelled = (fn, label) => { fn.label = label; return fn; };
const nIs = (n) => labelled((p) => p?.n === n, `n=${n}`);

describe('a Node socket.io node (classic redis adapter) and a Parley node on one Redis', { skip: mongoMode && 'multi-node tests run on SQLite (see social-presence)' }, () => {
  let redis;
  let parley;
  let peer;
  before(async () => {
    redis = await startRedis();
    parley = await startServer({ env: { REDIS_URL: redis.url } });
    peer = await startNodePeer({ redisUrl: redis.url });
  });
  after(async () => {
    const results = await Promise.allSettled([stopNodePeer(peer), stopServer(parley)]);
    await redis?.stop();
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  });

  const onParley = (u) => connect(parley, u.token, { label: `${u.handle}@parley` });
  const onNode = (u, rooms) => connect(peer, null, { auth: { userId: u.id, rooms }, label: `${u.handle}@node` });

  /** Rooms of the Node node's own socket `sid`. */
  const nodeRooms = async (sid) => (await peer.localSockets()).find((s) => s.id === sid)?.rooms ?? [];
  /** Rooms of Parley's socket `sid`, as the Node node's fetchSockets() reports them. */
  const parleyRooms = async (sid) => {
    const found = await peer.fetchSockets(sid);
    assert.ok(found.length <= 1, `fetchSockets(${sid}) found ${found.length} sockets`);
    return found[0]?.rooms ?? [];
  };
  const until = (rooms, sid, room, inside, where) => waitUntil(
    async () => (await rooms(sid)).includes(room) === inside,
    async () => `${where} socket ${sid} ${inside ? 'never joined' : 'never left'} ${room}; rooms now ${JSON.stringify(await rooms(sid))}`,
  );

  test('Parley → Node: chat:create joins the partner\'s Node socket to chat:<id>; chat:new and message:new reach it', async () => {
    const [a, u] = await newUsers(parley, 2);
    const a1 = await onParley(a);
    const u1 = await onNode(u);
    assert.deepEqual((await nodeRooms(u1.id)).sort(), [u1.id, `user:${u.id}`].sort(), 'the Node peer joined user:<id> at connect');

    const { chat } = await a1.ok('chat:create', { type: 'direct', participantId: u.id });
    await until(nodeRooms, u1.id, `chat:${chat.id}`, true, 'Node');
    const { chat: got } = await u1.next('chat:new', chatIs(chat.id));
    assert.deepEqual(got.participants.map((p) => p.id).sort(), [a.id, u.id].sort());

    const text = `from parley ${tag()}`;
    const wait = u1.next('message:new', textIs(text));
    const { message } = await a1.ok('message:new', { chatId: chat.id, text });
    const { message: m } = await wait;
    assert.equal(m.id, message.id);
    assert.equal(m.chatId, chat.id);
    assert.equal(m.sender.id, a.id);
    assert.equal(m.seq, message.seq);
  });

  test('Parley → Node: chat:participants:remove takes the Node socket out of chat:<id>; later messages skip it', async () => {
    const [a, b, u] = await newUsers(parley, 3);
    const [a1, b1] = await Promise.all([onParley(a), onParley(b)]);
    const u1 = await onNode(u);
    const { chat: group } = await a1.ok('chat:create', { type: 'group', name: `g ${tag()}`, participantIds: [b.id, u.id] });
    const { chat: au } = await a1.ok('chat:create', { type: 'direct', participantId: u.id });
    await until(nodeRooms, u1.id, `chat:${group.id}`, true, 'Node');
    await until(nodeRooms, u1.id, `chat:${au.id}`, true, 'Node');

    const removed = u1.next('chat:removed', chatIs(group.id));
    await a1.ok('chat:participants:remove', { chatId: group.id, userId: u.id });
    await removed;
    await until(nodeRooms, u1.id, `chat:${group.id}`, false, 'Node');

    const text = `after removal ${tag()}`;
    const toB = b1.next('message:new', textIs(text));
    await a1.ok('message:new', { chatId: group.id, text });
    await toB;
    // Marker: a later Parley broadcast to a chat u is still in, over the same channels.
    const marker = `marker ${tag()}`;
    const m = u1.next('message:new', textIs(marker));
    await a1.ok('message:new', { chatId: au.id, text: marker });
    await m;
    assert.equal(u1.received('message:new', textIs(text)).length, 0, 'a removed member\'s Node socket got the group message');
  });

  test('Node → Parley: to(user room), socketsJoin then to(room), to(room).except(room)', async () => {
    const [a, b] = await newUsers(parley, 2);
    const [a1, b1] = await Promise.all([onParley(a), onParley(b)]);
    const { chat } = await a1.ok('chat:create', { type: 'direct', participantId: b.id });
    await b1.next('chat:new', chatIs(chat.id));

    const ping = a1.next('peer:ping', nIs(1));
    await peer.emit(`user:${a.id}`, 'peer:ping', { n: 1 });
    assert.deepEqual(await ping, { n: 1 });

    const lobby = `lobby:${tag()}`;
    await peer.socketsJoin(`user:${a.id}`, lobby);
    await until(parleyRooms, a1.id, lobby, true, 'Parley');
    assert.ok((await parleyRooms(a1.id)).includes(`user:${a.id}`), 'fetchSockets reports Parley\'s own rooms too');
    const inLobby = a1.next('peer:lobby', nIs(2));
    await peer.emit(lobby, 'peer:lobby', { n: 2 });
    await inLobby;

    const toB = b1.next('peer:except', nIs(3));
    await peer.emit(`chat:${chat.id}`, 'peer:except', { n: 3 }, `user:${a.id}`);
    await toB;
    const marker = a1.next('peer:marker', nIs(4));
    await peer.emit(`user:${a.id}`, 'peer:marker', { n: 4 });
    await marker;
    assert.equal(a1.received('peer:except').length, 0, 'except(user:<A>) was not honoured on Parley');
  });

  // Broadcasts to several rooms, or to every socket, go out on the generic channel
  // socket.io#/# (one room: socket.io#/#<room>#). Markers to single rooms follow on the
  // same pattern subscription, so by then Parley has handled (or dropped) the broadcast.
  test('Node → Parley: to([roomA, roomB]) and io.emit() (the generic channel socket.io#/#) reach Parley\'s sockets', async () => {
    const [a, b] = await newUsers(parley, 2);
    const [a1, b1] = await Promise.all([onParley(a), onParley(b)]);
    await peer.emit([`user:${a.id}`, `user:${b.id}`], 'peer:multi', { n: 1 });
    await peer.emit([], 'peer:all', { n: 2 });
    await Promise.all([a, b].map(async (u, i) => {
      const marker = [a1, b1][i].next('peer:marker', nIs(3));
      await peer.emit(`user:${u.id}`, 'peer:marker', { n: 3 });
      await marker;
    }));
    for (const c of [a1, b1]) {
      assert.deepEqual([c.received('peer:multi').length, c.received('peer:all').length], [1, 1],
        `${c.label}: [to([user:A, user:B]), io.emit()] deliveries`);
    }
  });

  test('Node → Parley: socketsLeave takes Parley\'s socket out of a room; Node and Parley broadcasts to it then skip that socket', async () => {
    const [a, b] = await newUsers(parley, 2);
    const [a1, b1] = await Promise.all([onParley(a), onParley(b)]);
    const { chat } = await a1.ok('chat:create', { type: 'direct', participantId: b.id });
    const room = `chat:${chat.id}`;
    await until(parleyRooms, a1.id, room, true, 'Parley');

    await peer.socketsLeave(`user:${a.id}`, room);
    await until(parleyRooms, a1.id, room, false, 'Parley');
    assert.ok((await parleyRooms(b1.id)).includes(room), 'b stays in the chat room');

    const toB = b1.next('peer:after-leave', nIs(1));
    await peer.emit(room, 'peer:after-leave', { n: 1 });
    await toB;
    // Parley's own broadcast follows the membership the Node node changed.
    const text = `after leave ${tag()}`;
    await b1.ok('message:new', { chatId: chat.id, text });
    const marker = a1.next('peer:marker', nIs(2));
    await peer.emit(`user:${a.id}`, 'peer:marker', { n: 2 });
    await marker;
    assert.equal(a1.received('peer:after-leave').length, 0, 'a Node broadcast reached a socket that left the room');
    assert.equal(a1.received('message:new', textIs(text)).length, 0, 'a Parley message reached a socket that left the room');
  });

  // Between Node nodes, a broadcast published right after socketsJoin/socketsLeave is
  // applied after the membership change: each node reads every adapter channel from one
  // Redis connection, in publish order. Parley does the same, and while a Node node shares
  // the cluster it follows every broadcast channel, so a broadcast to a room it just
  // joined is never missed for want of a subscription.
  const ROUNDS = 100;
  test(`Node → Parley: a broadcast right after socketsJoin / socketsLeave sees the change (${ROUNDS} rounds each)`, async () => {
    const [a] = await newUsers(parley, 1);
    const a1 = await onParley(a);
    const missed = [];
    const leaked = [];
    for (let i = 0; i < ROUNDS * 2; i++) {
      const joining = i < ROUNDS;
      const room = `race:${i % ROUNDS}`;
      if (joining) await peer.socketsJoin(`user:${a.id}`, room);
      else await peer.socketsLeave(`user:${a.id}`, room);
      await peer.emit(room, 'peer:race', { n: i });
      const marker = a1.next('peer:marker', nIs(i));
      await peer.emit(`user:${a.id}`, 'peer:marker', { n: i });
      await marker;
      const got = a1.received('peer:race', nIs(i)).length;
      if (joining && got === 0) missed.push(i);
      if (!joining && got !== 0) leaked.push(i);
    }
    assert.deepEqual({ missed: missed.length, leaked: leaked.length }, { missed: 0, leaked: 0 },
      `of ${ROUNDS}: broadcasts right after socketsJoin lost, right after socketsLeave still delivered`);
  });
});
