// user:me, user:get, user:search, user:update (+ user:updated broadcast).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startServer, stopServer } from '../lib/server.js';
import { assertErr, assertUser, barrier, newUser, newUsers, randomId } from '../lib/fixtures.js';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await stopServer(srv); });

describe('user:me and user:get', () => {
  test('user:me returns the caller, online', async () => {
    const a = await newUser(srv, { name: 'Alice Me' });
    const c = await a.connect();
    const res = await c.ok('user:me', {});
    assertUser(res.user);
    assert.equal(res.user.id, a.id);
    assert.equal(res.user.handle, a.handle);
    assert.equal(res.user.name, 'Alice Me');
    assert.equal(res.user.image, null);
    assert.equal(res.user.online, true, 'the user is connected, and sees their own presence');
  });

  test('user:get returns another user; unknown and malformed ids are NOT_FOUND', async () => {
    const [a, b] = await newUsers(srv, 2);
    const c = await a.connect();
    const res = await c.ok('user:get', { userId: b.id });
    assertUser(res.user);
    assert.equal(res.user.id, b.id);
    assert.equal(res.user.handle, b.handle);
    assert.equal(res.user.name, b.name);
    assertErr(await c.ack('user:get', { userId: randomId() }), 'NOT_FOUND', 'unknown id');
    assertErr(await c.ack('user:get', { userId: 'not-an-id' }), 'NOT_FOUND', 'malformed id');
    assertErr(await c.ack('user:get', { userId: 'abc123' }), 'NOT_FOUND', 'malformed id');
  });

  test('online/lastSeen are hidden from strangers and shown to chat partners', async () => {
    const [a, b, s] = await newUsers(srv, 3);
    const ca = await a.connect();
    const cb = await b.connect(); // b is online
    const cs = await s.connect();
    await ca.ok('chat:create', { type: 'direct', participantId: b.id });
    const seenByPartner = (await ca.ok('user:get', { userId: b.id })).user;
    assert.equal(seenByPartner.online, true, 'a chat partner sees b online');
    const seenByStranger = (await cs.ok('user:get', { userId: b.id })).user;
    assert.equal(seenByStranger.online, false, 'a stranger sees online: false');
    assert.equal(seenByStranger.lastSeen, null, 'a stranger sees lastSeen: null');
    cb.close();
  });
});

describe('user:search', () => {
  let searcher;
  let prefix;
  let matching;
  before(async () => {
    prefix = `s${randomBytes(3).toString('hex')}`; // e.g. s1a2b3c
    matching = await newUsers(srv, 25, { each: (i) => ({ handle: `${prefix}_${String(i).padStart(2, '0')}`, name: `Searchable ${i}` }) });
    searcher = await (await newUser(srv)).connect();
  });

  test('prefix match on handle: ≤ 20 by default, limit up to 50', async () => {
    const def = await searcher.ok('user:search', { query: prefix });
    assert.equal(def.users.length, 20, 'default limit is 20');
    def.users.forEach((u) => assertUser(u));
    for (const u of def.users) assert.ok(u.handle.startsWith(prefix), `${u.handle} does not start with ${prefix}`);
    const all = await searcher.ok('user:search', { query: prefix, limit: 50 });
    assert.deepEqual(all.users.map((u) => u.id).sort(), matching.map((u) => u.id).sort());
    const five = await searcher.ok('user:search', { query: prefix, limit: 5 });
    assert.equal(five.users.length, 5);
  });

  test('case-insensitive, on handle or name', async () => {
    const upper = await searcher.ok('user:search', { query: prefix.toUpperCase(), limit: 50 });
    assert.equal(upper.users.length, 25, 'handle prefix match ignores case');
    const nameTag = `Zq${randomBytes(3).toString('hex')}`;
    const named = await newUser(srv, { name: `${nameTag} Person` });
    for (const q of [nameTag, nameTag.toLowerCase(), nameTag.toUpperCase()]) {
      const res = await searcher.ok('user:search', { query: q });
      assert.deepEqual(res.users.map((u) => u.id), [named.id], `name prefix ${q}`);
    }
  });

  test('prefix, not substring', async () => {
    const res = await searcher.ok('user:search', { query: prefix.slice(2), limit: 50 });
    for (const u of res.users) {
      assert.ok(!matching.some((m) => m.id === u.id), `substring "${prefix.slice(2)}" matched ${u.handle}`);
    }
  });

  test('limit 51 is VALIDATION_ERROR', async () => {
    assertErr(await searcher.ack('user:search', { query: prefix, limit: 51 }), 'VALIDATION_ERROR');
  });
});

describe('user:update', () => {
  test('updates name and image; user:updated reaches chat partners and other tabs, not the actor or strangers', async () => {
    const [a, b, s] = await newUsers(srv, 3);
    const a1 = await a.connect();
    const a2 = await a.connect();
    const b1 = await b.connect();
    const s1 = await s.connect();
    const ab = (await a1.ok('chat:create', { type: 'direct', participantId: b.id })).chat;
    const bs = (await b1.ok('chat:create', { type: 'direct', participantId: s.id })).chat;

    const name = `Renamed ${randomBytes(2).toString('hex')}`;
    const image = 'https://img.example/avatar.png';
    const isA = (p) => p?.user?.id === a.id;
    const waitB = b1.next('user:updated', isA);
    const waitA2 = a2.next('user:updated', isA);
    const res = await a1.ok('user:update', { name, image });
    assertUser(res.user);
    assert.equal(res.user.id, a.id);
    assert.equal(res.user.name, name);
    assert.equal(res.user.image, image);
    for (const ev of [await waitB, await waitA2]) {
      assertUser(ev.user, 'user:updated.user');
      assert.equal(ev.user.name, name);
      assert.equal(ev.user.image, image);
    }
    // Stored: user:get and user:me see it.
    assert.equal((await b1.ok('user:get', { userId: a.id })).user.name, name);
    assert.equal((await a2.ok('user:me', {})).user.image, image);

    // Not to the acting socket: b (who already got the event) posts into a–b; a1 gets that.
    await barrier(b1, ab.id, [a1]);
    assert.equal(a1.received('user:updated', isA).length, 0, 'the acting socket must not get user:updated');
    // Not to a stranger: b posts into b–s after having received the event.
    await barrier(b1, bs.id, [s1]);
    assert.equal(s1.received('user:updated', isA).length, 0, 'a stranger must not get user:updated');
    // Exactly once per socket.
    assert.equal(b1.received('user:updated', isA).length, 1);
    assert.equal(a2.received('user:updated', isA).length, 1);
  });

  test('name only leaves image alone', async () => {
    const a = await newUser(srv);
    const c = await a.connect();
    await c.ok('user:update', { image: 'https://img.example/1.png' });
    const res = await c.ok('user:update', { name: 'Only Name' });
    assert.equal(res.user.name, 'Only Name');
    assert.equal(res.user.image, 'https://img.example/1.png');
  });
});
