// Typing: typing:start / typing:stop relayed to the chat's other members (never to the
// typist's sockets), and the server ending a typing state by itself: TYPING_TIMEOUT_MS after
// the last typing:start, when the typist sends a message in that chat, when the typist's
// last socket disconnects. (The real 5 s default is checked in social-presence.test.js.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer } from '../lib/server.js';
import { assertErr, barrier, newUsers, randomId } from '../lib/fixtures.js';
import { eventsSince, mark, nextAt, sleep, textIs, typingIn } from '../lib/social.js';

const TYPING = 1500;
// A timer starts when the server handles the event, after the client sent it: an automatic
// stop can never come earlier than this slack before its due time.
const EARLY_SLACK = 100;

let srv;
before(async () => { srv = await startServer({ env: { TYPING_TIMEOUT_MS: TYPING, PRESENCE_GRACE_MS: 300 } }); });
after(async () => { await stopServer(srv); });

const typingEvents = (client, m, chatId, userId) =>
  eventsSince(client, m).filter((e) => (e.name === 'typing:start' || e.name === 'typing:stop') && typingIn(chatId, userId)(e.payload));

async function group(creator, others, name = 'Typing') {
  return (await creator.ok('chat:create', { type: 'group', name, participantIds: others.map((u) => u.id) })).chat;
}

describe('relay', () => {
  test('typing:start {chatId, user:{id,name,handle}} and typing:stop {chatId, userId} reach the other members\' sockets, never the typist\'s own (not even other tabs), never outsiders', async () => {
    const [a, b, c, s] = await newUsers(srv, 4);
    const a1 = await a.connect();
    const a2 = await a.connect();
    const b1 = await b.connect();
    const b2 = await b.connect();
    const c1 = await c.connect();
    const s1 = await s.connect();
    const g = await group(a1, [b, c]);
    const bs = (await b1.ok('chat:create', { type: 'direct', participantId: s.id })).chat; // s's barrier channel
    const others = [b1, b2, c1];
    const ma = [a1, a2].map(mark);
    const ms = mark(s1);

    const starts = others.map((x) => x.next('typing:start', typingIn(g.id, a.id)));
    const res = await a1.ok('typing:start', { chatId: g.id });
    assert.equal(res.success, true);
    for (const ev of await Promise.all(starts)) {
      assert.equal(ev.chatId, g.id);
      assert.equal(ev.user.id, a.id);
      assert.equal(ev.user.name, a.name);
      assert.equal(ev.user.handle, a.handle);
    }
    const stops = others.map((x) => x.next('typing:stop', typingIn(g.id, a.id)));
    await a1.ok('typing:stop', { chatId: g.id });
    for (const ev of await Promise.all(stops)) assert.deepEqual([ev.chatId, ev.userId], [g.id, a.id]);

    // From the other tab too: a2 types, a1 (same user) must not hear it.
    const starts2 = others.map((x) => x.next('typing:start', typingIn(g.id, a.id)));
    await a2.ok('typing:start', { chatId: g.id });
    await Promise.all(starts2);
    const stops2 = others.map((x) => x.next('typing:stop', typingIn(g.id, a.id)));
    await a2.ok('typing:stop', { chatId: g.id });
    await Promise.all(stops2);

    await barrier(b1, g.id, [a1, a2]);
    await barrier(b1, bs.id, [s1]);
    [a1, a2].forEach((x, i) => assert.deepEqual(typingEvents(x, ma[i], g.id, a.id), [], `${x.label}: the typist's own socket got a typing event`));
    assert.deepEqual(eventsSince(s1, ms).filter((e) => e.name.startsWith('typing:')), [], 'an outsider got a typing event');
    for (const x of others) {
      assert.equal(x.received('typing:start', typingIn(g.id, a.id)).length, 2, `${x.label}: one typing:start per start`);
      assert.equal(x.received('typing:stop', typingIn(g.id, a.id)).length, 2, `${x.label}: one typing:stop per stop`);
    }
  });

  test('works in a direct chat, both ways', async () => {
    const [a, b] = await newUsers(srv, 2);
    const a1 = await a.connect();
    const b1 = await b.connect();
    const d = (await a1.ok('chat:create', { type: 'direct', participantId: b.id })).chat;
    const s1 = b1.next('typing:start', typingIn(d.id, a.id));
    await a1.ok('typing:start', { chatId: d.id });
    assert.equal((await s1).user.id, a.id);
    const s2 = a1.next('typing:start', typingIn(d.id, b.id));
    await b1.ok('typing:start', { chatId: d.id });
    assert.equal((await s2).user.id, b.id);
    const t1 = b1.next('typing:stop', typingIn(d.id, a.id));
    const t2 = a1.next('typing:stop', typingIn(d.id, b.id));
    await Promise.all([a1.ok('typing:stop', { chatId: d.id }), b1.ok('typing:stop', { chatId: d.id })]);
    await Promise.all([t1, t2]);
  });

  test('an outsider or an unknown chat gets NOT_FOUND and nothing is relayed; payload validation', async () => {
    const [a, b, s] = await newUsers(srv, 3);
    const a1 = await a.connect();
    const b1 = await b.connect();
    const s1 = await s.connect();
    const g = await group(a1, [b]);
    const mb = mark(b1);
    for (const ev of ['typing:start', 'typing:stop']) {
      assertErr(await s1.ack(ev, { chatId: g.id }), 'NOT_FOUND', `${ev} by an outsider`);
      assertErr(await a1.ack(ev, { chatId: randomId() }), 'NOT_FOUND', `${ev} unknown chat`);
      assertErr(await a1.ack(ev, {}), 'VALIDATION_ERROR', `${ev} {}`);
      assertErr(await a1.ack(ev, { chatId: 5 }), 'VALIDATION_ERROR', `${ev} numeric chatId`);
      assertErr(await a1.ack(ev, { chatId: '' }), 'VALIDATION_ERROR', `${ev} empty chatId`);
    }
    await barrier(a1, g.id, [b1]);
    assert.deepEqual(eventsSince(b1, mb).filter((e) => e.name.startsWith('typing:')), [], 'a refused typing event was relayed');
  });
});

describe('the server ends typing by itself', () => {
  test(`after TYPING_TIMEOUT_MS (${TYPING} ms) since the last typing:start; a repeated start extends it`, { timeout: 30_000 }, async () => {
    const [a, b] = await newUsers(srv, 2);
    const a1 = await a.connect();
    const b1 = await b.connect();
    const g = await group(a1, [b]);

    // A single start.
    const m = mark(b1);
    const s0 = b1.next('typing:start', typingIn(g.id, a.id));
    await a1.ok('typing:start', { chatId: g.id });
    const t0 = Date.now();
    await s0;
    const stop0 = await nextAt(b1, 'typing:stop', typingIn(g.id, a.id), TYPING + 5000);
    assert.ok(stop0.at - t0 >= TYPING - EARLY_SLACK, `auto stop after ${stop0.at - t0} ms, before the ${TYPING} ms timeout`);
    assert.ok(stop0.at - t0 <= TYPING + 1500, `auto stop after ${stop0.at - t0} ms, long after the ${TYPING} ms timeout`);
    assert.deepEqual([stop0.payload.chatId, stop0.payload.userId], [g.id, a.id]);

    // A repeated start half-way through moves the deadline.
    await a1.ok('typing:start', { chatId: g.id });
    const t1 = Date.now();
    await sleep(TYPING / 2); // the point of the test: time passes between the two starts
    await a1.ok('typing:start', { chatId: g.id });
    const t2 = Date.now();
    const stop1 = await nextAt(b1, 'typing:stop', typingIn(g.id, a.id), TYPING + 5000);
    assert.ok(stop1.at - t2 >= TYPING - EARLY_SLACK,
      `stop came ${stop1.at - t2} ms after the repeated start (${stop1.at - t1} ms after the first): the repeated start did not extend the timeout`);
    assert.ok(stop1.at - t2 <= TYPING + 1500, `stop came ${stop1.at - t2} ms after the repeated start`);

    await barrier(a1, g.id, [b1]);
    const stops = typingEvents(b1, m, g.id, a.id).filter((e) => e.name === 'typing:stop');
    assert.equal(stops.length, 2, `one stop per typing state: ${JSON.stringify(stops)}`);
  });

  test('when the typist sends a message in that chat (from any tab): the others get typing:stop at once; a message in another chat does not end it', { timeout: 30_000 }, async () => {
    const [a, b] = await newUsers(srv, 2);
    const a1 = await a.connect();
    const a2 = await a.connect();
    const b1 = await b.connect();
    const g = await group(a1, [b]);
    const other = (await a1.ok('chat:create', { type: 'direct', participantId: b.id })).chat;

    // Message from the typing socket.
    let st = b1.next('typing:start', typingIn(g.id, a.id));
    await a1.ok('typing:start', { chatId: g.id });
    let t0 = Date.now();
    await st;
    let stop = nextAt(b1, 'typing:stop', typingIn(g.id, a.id), TYPING + 5000);
    let msg = b1.next('message:new', textIs('typed it'));
    await a1.ok('message:new', { chatId: g.id, text: 'typed it' });
    let { at, payload } = await stop;
    await msg;
    assert.deepEqual([payload.chatId, payload.userId], [g.id, a.id]);
    assert.ok(at - t0 < TYPING - 300, `typing:stop came ${at - t0} ms after the start: it looks like the timeout, not the message`);

    // Message from another tab of the same user.
    st = b1.next('typing:start', typingIn(g.id, a.id));
    await a1.ok('typing:start', { chatId: g.id });
    t0 = Date.now();
    await st;
    stop = nextAt(b1, 'typing:stop', typingIn(g.id, a.id), TYPING + 5000);
    msg = b1.next('message:new', textIs('typed from tab 2'));
    await a2.ok('message:new', { chatId: g.id, text: 'typed from tab 2' });
    ({ at } = await stop);
    await msg;
    assert.ok(at - t0 < TYPING - 300, `typing:stop came ${at - t0} ms after the start: the message from the other tab did not end it`);

    // A message in another chat leaves the typing state in g to its timeout.
    st = b1.next('typing:start', typingIn(g.id, a.id));
    await a1.ok('typing:start', { chatId: g.id });
    t0 = Date.now();
    await st;
    stop = nextAt(b1, 'typing:stop', typingIn(g.id, a.id), TYPING + 5000);
    const otherMsg = b1.next('message:new', textIs('elsewhere'));
    await a1.ok('message:new', { chatId: other.id, text: 'elsewhere' });
    await otherMsg;
    ({ at } = await stop);
    assert.ok(at - t0 >= TYPING - EARLY_SLACK, `typing in g ended ${at - t0} ms after the start, because of a message in another chat`);
  });

  test('when the typist\'s last socket disconnects (closing another tab does not end it)', { timeout: 30_000 }, async () => {
    const [a, u, b, h] = await newUsers(srv, 4);
    const a1 = await a.connect();
    const a2 = await a.connect();
    const u1 = await u.connect();
    const b1 = await b.connect();
    const h1 = await h.connect();
    const g = await group(b1, [a, u, h]);
    const starts = [b1.next('typing:start', typingIn(g.id, a.id)), b1.next('typing:start', typingIn(g.id, u.id))];
    await a1.ok('typing:start', { chatId: g.id });
    await u1.ok('typing:start', { chatId: g.id });
    const t0 = Date.now();
    await Promise.all(starts);
    const m = mark(b1);

    // a closes one of two tabs (not the typing one); u, as a positive control, closes its only socket.
    a2.close();
    const uStop = b1.next('typing:stop', typingIn(g.id, u.id), TYPING + 5000);
    u1.close();
    await uStop;
    const uAt = Date.now();
    assert.ok(uAt - t0 < TYPING - 300, `u's typing:stop came ${uAt - t0} ms after the start: the disconnect did not end it`);
    await barrier(h1, g.id, [b1]);
    assert.deepEqual(typingEvents(b1, m, g.id, a.id), [], 'closing a non-last tab ended a\'s typing');

    // The last socket goes: typing ends at once, well before the timeout.
    const aStop = nextAt(b1, 'typing:stop', typingIn(g.id, a.id), TYPING + 5000);
    a1.close();
    const { at, payload } = await aStop;
    assert.deepEqual([payload.chatId, payload.userId], [g.id, a.id]);
    assert.ok(at - t0 < TYPING - 100, `a's typing:stop came ${at - t0} ms after the start: the last disconnect did not end it`);
  });

  test('typing:stop without a typing state answers {} and typing is never stored', async () => {
    const [a, b] = await newUsers(srv, 2);
    const a1 = await a.connect();
    await b.connect();
    const g = await group(a1, [b]);
    await a1.ok('typing:stop', { chatId: g.id });
    await a1.ok('typing:start', { chatId: g.id });
    const chat = (await a1.ok('chat:get', { chatId: g.id })).chat;
    assert.equal(chat.lastSeq, 0, 'typing wrote no message');
    assert.equal((await a1.ok('message:list', { chatId: g.id })).messages.length, 0);
    await a1.ok('typing:stop', { chatId: g.id });
  });
});
