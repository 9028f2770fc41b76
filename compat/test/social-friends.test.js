// Friends: friend:request:send/accept/decline/cancel/list, friend:list, friend:remove and the
// server events friend:request:new/accepted/declined/canceled and friend:removed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer } from '../lib/server.js';
import { assertErr, assertUser, barrier, newUser, newUsers, randomId, sortedIds } from '../lib/fixtures.js';
import { assertFriendRequest, assertRequestIs, befriend, requestBetween, requestIs } from '../lib/social.js';

let srv;
before(async () => { srv = await startServer({ env: { PRESENCE_GRACE_MS: 300, TYPING_TIMEOUT_MS: 1000 } }); });
after(async () => { await stopServer(srv); });

// A resolved request can no longer be acted on. PROTOCOL.md names CONFLICT for state clashes
// and NOT_FOUND for requests the caller "may not act on"; it does not say which one a
// request that is no longer pending gets, so either is accepted.
const RESOLVED = ['CONFLICT', 'NOT_FOUND'];

/** A direct chat between two users, used only as an ordering barrier channel. */
async function channel(aSock, bId) {
  return (await aSock.ok('chat:create', { type: 'direct', participantId: bId })).chat.id;
}

async function pendingLists(sock) {
  const res = await sock.ok('friend:request:list', {});
  assert.ok(Array.isArray(res.incoming), `incoming must be an array: ${JSON.stringify(res)}`);
  assert.ok(Array.isArray(res.outgoing), `outgoing must be an array: ${JSON.stringify(res)}`);
  res.incoming.forEach((r, i) => assertFriendRequest(r, `incoming[${i}]`));
  res.outgoing.forEach((r, i) => assertFriendRequest(r, `outgoing[${i}]`));
  return res;
}

async function friendIds(sock) {
  const res = await sock.ok('friend:list', {});
  assert.ok(Array.isArray(res.friends), `friends must be an array: ${JSON.stringify(res)}`);
  res.friends.forEach((u, i) => assertUser(u, `friends[${i}]`));
  return res.friends.map((u) => u.id).sort();
}

describe('friend:request:send', () => {
  test('creates a pending request; friend:request:new to every socket of the recipient and the sender\'s other tabs, not the acting socket', async () => {
    const [a, b] = await newUsers(srv, 2);
    const a1 = await a.connect();
    const a2 = await a.connect();
    const b1 = await b.connect();
    const b2 = await b.connect();
    const waits = [a2, b1, b2].map((c) => c.next('friend:request:new', requestBetween(a.id, b.id)));
    const { request } = await a1.ok('friend:request:send', { userId: b.id });
    assertRequestIs(request, { from: a.id, to: b.id, status: 'pending' });
    assert.equal(request.from.handle, a.handle);
    assert.equal(request.to.handle, b.handle);
    for (const ev of await Promise.all(waits)) assertRequestIs(ev.request, { id: request.id, from: a.id, to: b.id, status: 'pending' }, 'friend:request:new.request');

    const ch = await channel(b1, a.id);
    await barrier(b1, ch, [a1, a2]);
    assert.equal(a1.received('friend:request:new').length, 0, 'the acting socket gets no friend:request:new');
    for (const c of [a2, b1, b2]) assert.equal(c.received('friend:request:new', requestIs(request.id)).length, 1, `${c.label}: exactly one friend:request:new`);

    const la = await pendingLists(a1);
    assert.deepEqual(la.outgoing.map((r) => r.id), [request.id]);
    assert.deepEqual(la.incoming, []);
    const lb = await pendingLists(b1);
    assert.deepEqual(lb.incoming.map((r) => r.id), [request.id]);
    assert.deepEqual(lb.outgoing, []);
  });

  test('to yourself is VALIDATION_ERROR; to an unknown user NOT_FOUND; malformed payloads VALIDATION_ERROR', async () => {
    const a = await newUser(srv);
    const c = await a.connect();
    assertErr(await c.ack('friend:request:send', { userId: a.id }), 'VALIDATION_ERROR', 'to self');
    assertErr(await c.ack('friend:request:send', { userId: randomId() }), 'NOT_FOUND', 'unknown user');
    assertErr(await c.ack('friend:request:send', { userId: 'not-an-id' }), ['NOT_FOUND', 'VALIDATION_ERROR'], 'malformed id');
    assertErr(await c.ack('friend:request:send', {}), 'VALIDATION_ERROR', 'no userId');
    assertErr(await c.ack('friend:request:send', { userId: '' }), 'VALIDATION_ERROR', 'empty userId');
    assertErr(await c.ack('friend:request:send', { userId: 42 }), 'VALIDATION_ERROR', 'numeric userId');
    assertErr(await c.ack('friend:request:send', { userId: [a.id] }), 'VALIDATION_ERROR', 'array userId');
    const l = await pendingLists(c);
    assert.deepEqual([l.incoming.length, l.outgoing.length], [0, 0], 'nothing was created');
  });

  test('a duplicate while pending is CONFLICT, and creates nothing', async () => {
    const [a, b] = await newUsers(srv, 2);
    const a1 = await a.connect();
    const b1 = await b.connect();
    const { request } = await a1.ok('friend:request:send', { userId: b.id });
    assertErr(await a1.ack('friend:request:send', { userId: b.id }), 'CONFLICT', 'second send while pending');
    const ch = await channel(a1, b.id);
    await barrier(a1, ch, [b1]);
    assert.equal(b1.received('friend:request:new').length, 1, 'the recipient was told once');
    assert.deepEqual((await pendingLists(b1)).incoming.map((r) => r.id), [request.id]);
    assert.deepEqual((await pendingLists(a1)).outgoing.map((r) => r.id), [request.id]);
  });

  test('sending to someone who already asked you accepts their request: friend:request:accepted to them and your other tabs', async () => {
    const [a, b] = await newUsers(srv, 2);
    const a1 = await a.connect();
    const a2 = await a.connect();
    const b1 = await b.connect();
    const b2 = await b.connect();
    const { request } = await a1.ok('friend:request:send', { userId: b.id });
    const waits = [a1, a2, b2].map((c) => c.next('friend:request:accepted', requestIs(request.id)));
    const res = await b1.ok('friend:request:send', { userId: a.id });
    assertRequestIs(res.request, { id: request.id, from: a.id, to: b.id, status: 'accepted' }, 'ack.request');
    for (const ev of await Promise.all(waits)) assertRequestIs(ev.request, { id: request.id, status: 'accepted' }, 'friend:request:accepted.request');

    const ch = await channel(a1, b.id);
    await barrier(a1, ch, [b1]);
    assert.equal(b1.received('friend:request:accepted').length, 0, 'the acting socket gets no friend:request:accepted');
    assert.equal(b1.received('friend:request:new', requestBetween(b.id, a.id)).length + a1.received('friend:request:new', requestBetween(b.id, a.id)).length, 0,
      'no new request b -> a was announced');
    assert.deepEqual(await friendIds(a1), [b.id]);
    assert.deepEqual(await friendIds(b1), [a.id]);
    for (const s of [a1, b1]) {
      const l = await pendingLists(s);
      assert.deepEqual([l.incoming.length, l.outgoing.length], [0, 0], 'no pending request is left');
    }
  });

  test('to an existing friend is refused (CONFLICT) and creates nothing', async () => {
    const [a, b] = await newUsers(srv, 2);
    const a1 = await a.connect();
    const b1 = await b.connect();
    await befriend(a1, b1, b.id);
    assertErr(await a1.ack('friend:request:send', { userId: b.id }), 'CONFLICT', 'a -> b again');
    assertErr(await b1.ack('friend:request:send', { userId: a.id }), 'CONFLICT', 'b -> a');
    for (const s of [a1, b1]) {
      const l = await pendingLists(s);
      assert.deepEqual([l.incoming.length, l.outgoing.length], [0, 0]);
    }
  });
});

describe('friend:request:accept / decline', () => {
  test('accept: recipient only (sender and strangers get NOT_FOUND); friend:request:accepted to the sender and the recipient\'s other tabs', async () => {
    const [a, b, s] = await newUsers(srv, 3);
    const a1 = await a.connect();
    const a2 = await a.connect();
    const b1 = await b.connect();
    const b2 = await b.connect();
    const s1 = await s.connect();
    const { request } = await a1.ok('friend:request:send', { userId: b.id });
    assertErr(await a1.ack('friend:request:accept', { requestId: request.id }), 'NOT_FOUND', 'the sender accepts their own request');
    assertErr(await a2.ack('friend:request:accept', { requestId: request.id }), 'NOT_FOUND', 'the sender, other tab');
    assertErr(await s1.ack('friend:request:accept', { requestId: request.id }), 'NOT_FOUND', 'a stranger accepts');
    assert.deepEqual((await pendingLists(b1)).incoming.map((r) => r.id), [request.id], 'still pending after the refused attempts');

    const waits = [a1, a2, b2].map((c) => c.next('friend:request:accepted', requestIs(request.id)));
    const res = await b1.ok('friend:request:accept', { requestId: request.id });
    assertRequestIs(res.request, { id: request.id, from: a.id, to: b.id, status: 'accepted' }, 'ack.request');
    for (const ev of await Promise.all(waits)) assertRequestIs(ev.request, { id: request.id, from: a.id, to: b.id, status: 'accepted' }, 'friend:request:accepted.request');
    const ch = await channel(a1, b.id);
    await barrier(a1, ch, [b1]);
    assert.equal(b1.received('friend:request:accepted').length, 0, 'the acting socket gets no friend:request:accepted');
    assert.equal(s1.received('friend:request:accepted').length, 0);

    assert.deepEqual(await friendIds(a1), [b.id]);
    assert.deepEqual(await friendIds(b2), [a.id]);
    assert.deepEqual(await friendIds(s1), []);
    for (const c of [a1, b1]) {
      const l = await pendingLists(c);
      assert.deepEqual([l.incoming.length, l.outgoing.length], [0, 0], 'pending only: the accepted request is gone');
    }
    // Already resolved.
    assertErr(await b1.ack('friend:request:accept', { requestId: request.id }), RESOLVED, 'accept twice');
    assertErr(await b1.ack('friend:request:decline', { requestId: request.id }), RESOLVED, 'decline after accept');
    assertErr(await a1.ack('friend:request:cancel', { requestId: request.id }), RESOLVED, 'cancel after accept');
    assert.deepEqual(await friendIds(a1), [b.id], 'still friends');
  });

  test('decline: recipient only; friend:request:declined to the sender and the recipient\'s other tabs; no friendship', async () => {
    const [a, b, s] = await newUsers(srv, 3);
    const a1 = await a.connect();
    const a2 = await a.connect();
    const b1 = await b.connect();
    const b2 = await b.connect();
    const s1 = await s.connect();
    const { request } = await a1.ok('friend:request:send', { userId: b.id });
    assertErr(await a1.ack('friend:request:decline', { requestId: request.id }), 'NOT_FOUND', 'the sender declines');
    assertErr(await s1.ack('friend:request:decline', { requestId: request.id }), 'NOT_FOUND', 'a stranger declines');

    const waits = [a1, a2, b2].map((c) => c.next('friend:request:declined', requestIs(request.id)));
    const res = await b1.ok('friend:request:decline', { requestId: request.id });
    assertRequestIs(res.request, { id: request.id, from: a.id, to: b.id, status: 'declined' }, 'ack.request');
    for (const ev of await Promise.all(waits)) assertRequestIs(ev.request, { id: request.id, status: 'declined' }, 'friend:request:declined.request');
    const ch = await channel(a1, b.id);
    await barrier(a1, ch, [b1]);
    assert.equal(b1.received('friend:request:declined').length, 0, 'the acting socket gets no friend:request:declined');

    assert.deepEqual(await friendIds(a1), []);
    assert.deepEqual(await friendIds(b1), []);
    for (const c of [a1, b1]) {
      const l = await pendingLists(c);
      assert.deepEqual([l.incoming.length, l.outgoing.length], [0, 0], 'pending only: the declined request is gone');
    }
    assertErr(await b1.ack('friend:request:decline', { requestId: request.id }), RESOLVED, 'decline twice');
    assertErr(await b1.ack('friend:request:accept', { requestId: request.id }), RESOLVED, 'accept after decline');
    assertErr(await a1.ack('friend:request:cancel', { requestId: request.id }), RESOLVED, 'cancel after decline');
    assert.deepEqual(await friendIds(b1), []);
  });
});

describe('friend:request:cancel', () => {
  test('sender only (recipient and strangers get NOT_FOUND); friend:request:canceled to the recipient and the sender\'s other tabs', async () => {
    const [a, b, s] = await newUsers(srv, 3);
    const a1 = await a.connect();
    const a2 = await a.connect();
    const b1 = await b.connect();
    const b2 = await b.connect();
    const s1 = await s.connect();
    const { request } = await a1.ok('friend:request:send', { userId: b.id });
    assertErr(await b1.ack('friend:request:cancel', { requestId: request.id }), 'NOT_FOUND', 'the recipient cancels');
    assertErr(await s1.ack('friend:request:cancel', { requestId: request.id }), 'NOT_FOUND', 'a stranger cancels');
    assert.deepEqual((await pendingLists(a1)).outgoing.map((r) => r.id), [request.id], 'still pending');

    const waits = [a2, b1, b2].map((c) => c.next('friend:request:canceled', requestIs(request.id)));
    const res = await a1.ok('friend:request:cancel', { requestId: request.id });
    assertRequestIs(res.request, { id: request.id, from: a.id, to: b.id, status: 'canceled' }, 'ack.request');
    for (const ev of await Promise.all(waits)) assertRequestIs(ev.request, { id: request.id, status: 'canceled' }, 'friend:request:canceled.request');
    const ch = await channel(b1, a.id);
    await barrier(b1, ch, [a1]);
    assert.equal(a1.received('friend:request:canceled').length, 0, 'the acting socket gets no friend:request:canceled');

    for (const c of [a1, b1]) {
      const l = await pendingLists(c);
      assert.deepEqual([l.incoming.length, l.outgoing.length], [0, 0], 'the canceled request is no longer listed');
    }
    assertErr(await b1.ack('friend:request:accept', { requestId: request.id }), RESOLVED, 'accept after cancel');
    assertErr(await a1.ack('friend:request:cancel', { requestId: request.id }), RESOLVED, 'cancel twice');
    assert.deepEqual(await friendIds(b1), []);

    // No longer pending, so asking again is not a duplicate.
    const again = await a1.ok('friend:request:send', { userId: b.id });
    assertRequestIs(again.request, { from: a.id, to: b.id, status: 'pending' });
    assert.notEqual(again.request.id, request.id);
  });

  test('accept, decline and cancel validate their payload; unknown ids are NOT_FOUND', async () => {
    const a = await newUser(srv);
    const c = await a.connect();
    for (const ev of ['friend:request:accept', 'friend:request:decline', 'friend:request:cancel']) {
      assertErr(await c.ack(ev, {}), 'VALIDATION_ERROR', `${ev} {}`);
      assertErr(await c.ack(ev, { requestId: '' }), 'VALIDATION_ERROR', `${ev} empty id`);
      assertErr(await c.ack(ev, { requestId: 7 }), 'VALIDATION_ERROR', `${ev} numeric id`);
      assertErr(await c.ack(ev, { requestId: randomId() }), 'NOT_FOUND', `${ev} unknown id`);
      assertErr(await c.ack(ev, { requestId: 'nope' }), ['NOT_FOUND', 'VALIDATION_ERROR'], `${ev} malformed id`);
    }
  });
});

describe('friend:request:list and friend:list', () => {
  test('friend:request:list holds pending requests only, split into incoming and outgoing', async () => {
    const [me, b, c, d, e, f] = await newUsers(srv, 6);
    const m1 = await me.connect();
    const [cb, cc, cd, ce, cf] = await Promise.all([b, c, d, e, f].map((u) => u.connect()));
    const toB = (await m1.ok('friend:request:send', { userId: b.id })).request; // outgoing, pending
    const fromC = (await cc.ok('friend:request:send', { userId: me.id })).request; // incoming, pending
    const toD = (await m1.ok('friend:request:send', { userId: d.id })).request;
    await cd.ok('friend:request:decline', { requestId: toD.id }); // declined
    const fromE = (await ce.ok('friend:request:send', { userId: me.id })).request;
    await ce.ok('friend:request:cancel', { requestId: fromE.id }); // canceled
    const fromF = (await cf.ok('friend:request:send', { userId: me.id })).request;
    await m1.ok('friend:request:accept', { requestId: fromF.id }); // accepted

    const mine = await pendingLists(m1);
    assert.deepEqual(mine.outgoing.map((r) => r.id), [toB.id]);
    assert.deepEqual(mine.incoming.map((r) => r.id), [fromC.id]);
    assertRequestIs(mine.outgoing[0], { from: me.id, to: b.id, status: 'pending' });
    assertRequestIs(mine.incoming[0], { from: c.id, to: me.id, status: 'pending' });
    assert.deepEqual((await pendingLists(cb)).incoming.map((r) => r.id), [toB.id]);
    assert.deepEqual((await pendingLists(cc)).outgoing.map((r) => r.id), [fromC.id]);
    for (const s of [cd, ce, cf]) {
      const l = await pendingLists(s);
      assert.deepEqual([l.incoming.length, l.outgoing.length], [0, 0], `${s.label}: nothing pending`);
    }
    assertErr(await m1.ack('friend:request:list', 'nope'), 'VALIDATION_ERROR', 'non-object payload');
  });

  test('friend:list returns the accepted friends as Users, on both sides', async () => {
    const [me, b, c, d] = await newUsers(srv, 4);
    const m1 = await me.connect();
    const [cb, cc, cd] = await Promise.all([b, c, d].map((u) => u.connect()));
    assert.deepEqual(await friendIds(m1), []);
    await befriend(m1, cb, b.id);
    await befriend(cc, m1, me.id);
    await m1.ok('friend:request:send', { userId: d.id }); // pending: not a friend
    assert.deepEqual(await friendIds(m1), [b.id, c.id].sort());
    assert.deepEqual(await friendIds(cb), [me.id]);
    assert.deepEqual(await friendIds(cc), [me.id]);
    assert.deepEqual(await friendIds(cd), []);
    const { friends } = await m1.ok('friend:list', {});
    const fb = friends.find((u) => u.id === b.id);
    assert.equal(fb.handle, b.handle);
    assert.equal(fb.name, b.name);
    assert.equal(fb.online, true, 'a friend sees a connected friend online');
  });
});

describe('friend:remove', () => {
  test('{} ack; friend:removed {userId} to the other side and the remover\'s other tabs, not the acting socket; then no longer friends', async () => {
    const [a, b, s] = await newUsers(srv, 3);
    const a1 = await a.connect();
    const a2 = await a.connect();
    const b1 = await b.connect();
    const b2 = await b.connect();
    const s1 = await s.connect();
    await befriend(a1, b1, b.id);
    const waitsB = [b1, b2].map((c) => c.next('friend:removed'));
    const waitA2 = a2.next('friend:removed');
    await a1.ok('friend:remove', { userId: b.id });
    for (const ev of await Promise.all(waitsB)) assert.equal(ev?.userId, a.id, 'the other side learns who removed them');
    assert.equal((await waitA2)?.userId, b.id, 'the remover\'s other tab learns who was removed');
    const ch = await channel(b1, a.id);
    await barrier(b1, ch, [a1]);
    assert.equal(a1.received('friend:removed').length, 0, 'the acting socket gets no friend:removed');
    assert.equal(s1.received('friend:removed').length, 0);
    assert.deepEqual(await friendIds(a1), []);
    assert.deepEqual(await friendIds(b1), []);

    // They can become friends again.
    const again = await b1.ok('friend:request:send', { userId: a.id });
    assertRequestIs(again.request, { from: b.id, to: a.id, status: 'pending' });
  });

  test('unknown user NOT_FOUND; payload validation', async () => {
    const a = await newUser(srv);
    const c = await a.connect();
    assertErr(await c.ack('friend:remove', { userId: randomId() }), 'NOT_FOUND', 'unknown user');
    assertErr(await c.ack('friend:remove', {}), 'VALIDATION_ERROR', 'no userId');
    assertErr(await c.ack('friend:remove', { userId: 3 }), 'VALIDATION_ERROR', 'numeric userId');
  });

  test('friendship is symmetric: either side can remove', async () => {
    const [a, b] = await newUsers(srv, 2);
    const a1 = await a.connect();
    const b1 = await b.connect();
    await befriend(a1, b1, b.id);
    const wait = a1.next('friend:removed');
    await b1.ok('friend:remove', { userId: a.id });
    assert.equal((await wait)?.userId, b.id);
    assert.deepEqual(sortedIds((await a1.ok('friend:list', {})).friends), []);
  });
});
