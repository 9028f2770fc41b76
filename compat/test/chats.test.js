// chat:create (direct, group), chat:new, chat:list, chat:get, chat:update,
// chat:participants:add/remove, chat:admin:set, chat:leave.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer } from '../lib/server.js';
import { assertChat, assertErr, barrier, ids, newUser, newUsers, randomId, sortedIds } from '../lib/fixtures.js';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await stopServer(srv); });

const isChat = (id) => (p) => (p?.chat?.id ?? p?.chatId) === id;
const isText = (text) => (p) => p?.message?.text === text;

async function sendAndExpect(sender, chatId, text, receivers) {
  const waits = receivers.map((r) => r.next('message:new', isText(text)));
  const { message } = await sender.ok('message:new', { chatId, text });
  const got = await Promise.all(waits);
  for (const g of got) assert.equal(g.message.id, message.id);
  return message;
}

describe('direct chats', () => {
  test('create: Chat shape, chat:new to the partner and the creator\'s other tab (not the acting socket), rooms joined at once', async () => {
    const [a, b] = await newUsers(srv, 2);
    const a1 = await a.connect();
    const a2 = await a.connect();
    const b1 = await b.connect();
    const b2 = await b.connect();
    const waits = [a2, b1, b2].map((c) => c.next('chat:new'));
    const res = await a1.ok('chat:create', { type: 'direct', participantId: b.id });
    assert.equal(res.existing, false);
    const chat = res.chat;
    assertChat(chat);
    assert.equal(chat.type, 'direct');
    assert.equal(chat.name, null);
    assert.deepEqual(sortedIds(chat.participants), [a.id, b.id].sort());
    assert.equal(chat.createdBy, a.id);
    assert.equal(chat.lastSeq, 0);
    assert.equal(chat.lastMessage, null);
    assert.equal(chat.unreadCount, 0);
    assert.equal(chat.readSeq, 0);
    for (const ev of await Promise.all(waits)) {
      assertChat(ev.chat, 'chat:new.chat');
      assert.equal(ev.chat.id, chat.id);
    }
    // Live sockets are in the room at once: a message right after the create reaches them.
    await sendAndExpect(a1, chat.id, 'right after create', [a2, b1, b2]);
    await sendAndExpect(b1, chat.id, 'and back', [a1, a2, b2]);
    assert.equal(a1.received('chat:new', isChat(chat.id)).length, 0, 'the acting socket gets no chat:new');
    for (const c of [a2, b1, b2]) assert.equal(c.received('chat:new', isChat(chat.id)).length, 1);
  });

  test('a second create returns the same chat with existing: true, in either direction', async () => {
    const [a, b] = await newUsers(srv, 2);
    const ca = await a.connect();
    const cb = await b.connect();
    const first = await ca.ok('chat:create', { type: 'direct', participantId: b.id });
    assert.equal(first.existing, false);
    const again = await ca.ok('chat:create', { type: 'direct', participantId: b.id });
    assert.equal(again.existing, true);
    assert.equal(again.chat.id, first.chat.id);
    assertChat(again.chat);
    const reverse = await cb.ok('chat:create', { type: 'direct', participantId: a.id });
    assert.equal(reverse.existing, true);
    assert.equal(reverse.chat.id, first.chat.id);
    const list = await ca.ok('chat:list', {});
    assert.equal(list.chats.filter((c) => c.id === first.chat.id).length, 1);
    assert.equal(list.chats.length, 1, 'no second direct chat was created');
  });

  test('with oneself is VALIDATION_ERROR; with an unknown user NOT_FOUND', async () => {
    const a = await newUser(srv);
    const c = await a.connect();
    assertErr(await c.ack('chat:create', { type: 'direct', participantId: a.id }), 'VALIDATION_ERROR');
    assertErr(await c.ack('chat:create', { type: 'direct', participantId: randomId() }), 'NOT_FOUND');
    assert.equal((await c.ok('chat:list', {})).chats.length, 0);
  });
});

describe('group chats', () => {
  test('create: creator is admin; chat:new to members and the creator\'s other tab; a message right after reaches all', async () => {
    const [a, b, c] = await newUsers(srv, 3);
    const a1 = await a.connect();
    const a2 = await a.connect();
    const b1 = await b.connect();
    const c1 = await c.connect();
    const waits = [a2, b1, c1].map((s) => s.next('chat:new'));
    const res = await a1.ok('chat:create', { type: 'group', name: 'The Group', participantIds: [b.id, c.id] });
    const chat = res.chat;
    assertChat(chat);
    assert.equal(chat.type, 'group');
    assert.equal(chat.name, 'The Group');
    assert.deepEqual(chat.admins, [a.id]);
    assert.equal(chat.createdBy, a.id);
    assert.deepEqual(sortedIds(chat.participants), [a.id, b.id, c.id].sort());
    assert.equal(chat.lastSeq, 0);
    assert.equal(chat.lastMessage, null);
    for (const ev of await Promise.all(waits)) {
      assertChat(ev.chat);
      assert.equal(ev.chat.id, chat.id);
      assert.equal(ev.chat.name, 'The Group');
    }
    await sendAndExpect(a1, chat.id, 'group hello', [a2, b1, c1]);
    await sendAndExpect(c1, chat.id, 'hi from c', [a1, a2, b1]);
    assert.equal(a1.received('chat:new', isChat(chat.id)).length, 0, 'the acting socket gets no chat:new');
  });

  test('validation: name required, 1–200 other participants, unknown participant NOT_FOUND', async () => {
    const [a, b] = await newUsers(srv, 2);
    const c = await a.connect();
    assertErr(await c.ack('chat:create', { type: 'group', participantIds: [b.id] }), 'VALIDATION_ERROR', 'no name');
    assertErr(await c.ack('chat:create', { type: 'group', name: '', participantIds: [b.id] }), 'VALIDATION_ERROR', 'empty name');
    assertErr(await c.ack('chat:create', { type: 'group', name: 'x', participantIds: [] }), 'VALIDATION_ERROR', 'no participants');
    assertErr(await c.ack('chat:create', { type: 'group', name: 'x' }), 'VALIDATION_ERROR', 'participantIds missing');
    const tooMany = Array.from({ length: 201 }, () => randomId());
    assertErr(await c.ack('chat:create', { type: 'group', name: 'x', participantIds: tooMany }), 'VALIDATION_ERROR', '201 others');
    assertErr(await c.ack('chat:create', { type: 'group', name: 'x', participantIds: [b.id, randomId()] }), 'NOT_FOUND', 'unknown participant');
    assertErr(await c.ack('chat:create', { type: 'channel', name: 'x', participantIds: [b.id] }), 'VALIDATION_ERROR', 'bad type');
    assert.equal((await c.ok('chat:list', {})).chats.length, 0, 'nothing was created');
  });

  test('200 other participants is accepted', { timeout: 120_000 }, async () => {
    const a = await newUser(srv);
    const others = await newUsers(srv, 200, { batch: 8 });
    const c = await a.connect();
    const res = await c.ok('chat:create', { type: 'group', name: 'Big', participantIds: ids(others) }, 20_000);
    assert.equal(res.chat.participants.length, 201);
  });
});

describe('chat:list and chat:get', () => {
  test('newest activity first; paging with nextCursor; limit ≤ 100', async () => {
    const [a, b, c, d] = await newUsers(srv, 4);
    const ca = await a.connect();
    const c1 = (await ca.ok('chat:create', { type: 'direct', participantId: b.id })).chat;
    const c2 = (await ca.ok('chat:create', { type: 'direct', participantId: c.id })).chat;
    const c3 = (await ca.ok('chat:create', { type: 'direct', participantId: d.id })).chat;
    await ca.ok('message:new', { chatId: c1.id, text: 'bump c1' });
    const all = await ca.ok('chat:list', {});
    assert.deepEqual(ids(all.chats), [c1.id, c3.id, c2.id], 'ordered by last activity, newest first');
    all.chats.forEach((ch) => assertChat(ch));
    assert.equal(all.nextCursor, null, 'everything fit in one page');
    for (let i = 1; i < all.chats.length; i++) {
      assert.ok(Date.parse(all.chats[i - 1].lastActivity) >= Date.parse(all.chats[i].lastActivity));
    }
    const p1 = await ca.ok('chat:list', { limit: 2 });
    assert.deepEqual(ids(p1.chats), [c1.id, c3.id]);
    assert.equal(typeof p1.nextCursor, 'string');
    const p2 = await ca.ok('chat:list', { limit: 2, before: p1.nextCursor });
    assert.deepEqual(ids(p2.chats), [c2.id]);
    assert.equal(p2.nextCursor, null);
    assertErr(await ca.ack('chat:list', { limit: 101 }), 'VALIDATION_ERROR');
    assert.equal((await ca.ok('chat:list', { limit: 100 })).chats.length, 3);
  });

  test('default page is 50 chats, and pages cover every chat once', { timeout: 60_000 }, async () => {
    const [a, b] = await newUsers(srv, 2);
    const ca = await a.connect();
    const created = [];
    for (let i = 0; i < 53; i++) {
      created.push((await ca.ok('chat:create', { type: 'group', name: `g${i}`, participantIds: [b.id] })).chat.id);
    }
    const p1 = await ca.ok('chat:list', {});
    assert.equal(p1.chats.length, 50);
    assert.equal(typeof p1.nextCursor, 'string');
    const p2 = await ca.ok('chat:list', { before: p1.nextCursor });
    assert.equal(p2.chats.length, 3);
    assert.equal(p2.nextCursor, null);
    assert.deepEqual([...ids(p1.chats), ...ids(p2.chats)].sort(), [...created].sort());
    // Newest first: the last created chat has the newest activity.
    assert.equal(p1.chats[0].id, created[52]);
    assert.equal(p2.chats[2].id, created[0]);
  });

  test('chat:get returns the Chat with lastSeq, lastMessage, unreadCount, readSeq', async () => {
    const [a, b] = await newUsers(srv, 2);
    const ca = await a.connect();
    const cb = await b.connect();
    const chat = (await ca.ok('chat:create', { type: 'group', name: 'G', participantIds: [b.id] })).chat;
    await ca.ok('message:new', { chatId: chat.id, text: 'one' });
    const { message } = await ca.ok('message:new', { chatId: chat.id, text: 'two' });
    const got = (await cb.ok('chat:get', { chatId: chat.id })).chat;
    assertChat(got);
    assert.equal(got.id, chat.id);
    assert.equal(got.lastSeq, 2);
    assert.equal(got.lastMessage.id, message.id);
    assert.equal(got.lastMessage.text, 'two');
    assert.equal(got.unreadCount, 2);
    assert.equal(got.readSeq, 0);
    assert.deepEqual(got.admins, [a.id]);
    assertErr(await cb.ack('chat:get', { chatId: randomId() }), 'NOT_FOUND');
  });
});

describe('chat:update', () => {
  test('admin renames; chat:updated to members and the admin\'s other tab, not the acting socket; non-admin FORBIDDEN', async () => {
    const [a, b, c] = await newUsers(srv, 3);
    const a1 = await a.connect();
    const a2 = await a.connect();
    const b1 = await b.connect();
    const c1 = await c.connect();
    const chat = (await a1.ok('chat:create', { type: 'group', name: 'Before', participantIds: [b.id, c.id] })).chat;
    const waits = [a2, b1, c1].map((s) => s.next('chat:updated', (p) => p?.chat?.id === chat.id && p.chat.name === 'After'));
    const res = await a1.ok('chat:update', { chatId: chat.id, name: 'After' });
    assertChat(res.chat);
    assert.equal(res.chat.name, 'After');
    for (const ev of await Promise.all(waits)) assertChat(ev.chat);
    await barrier(b1, chat.id, [a1]);
    assert.equal(a1.received('chat:updated', isChat(chat.id)).length, 0, 'the acting socket gets no chat:updated');

    assertErr(await b1.ack('chat:update', { chatId: chat.id, name: 'Hijack' }), 'FORBIDDEN');
    assertErr(await a1.ack('chat:update', { chatId: chat.id, name: '' }), 'VALIDATION_ERROR');
    assert.equal((await c1.ok('chat:get', { chatId: chat.id })).chat.name, 'After');
  });

  test('a direct chat cannot be renamed', async () => {
    const [a, b] = await newUsers(srv, 2);
    const ca = await a.connect();
    const chat = (await ca.ok('chat:create', { type: 'direct', participantId: b.id })).chat;
    assertErr(await ca.ack('chat:update', { chatId: chat.id, name: 'x' }), ['FORBIDDEN', 'VALIDATION_ERROR']);
    assert.equal((await ca.ok('chat:get', { chatId: chat.id })).chat.name, null);
  });
});

describe('chat:participants:add', () => {
  test('admin adds; the new member gets chat:new and then messages live; non-admin FORBIDDEN', async () => {
    const [a, b, d, e] = await newUsers(srv, 4);
    const a1 = await a.connect();
    const b1 = await b.connect();
    const d1 = await d.connect();
    const d2 = await d.connect();
    const e1 = await e.connect();
    const chat = (await a1.ok('chat:create', { type: 'group', name: 'G', participantIds: [b.id] })).chat;
    await a1.ok('message:new', { chatId: chat.id, text: 'before d joined' });

    assertErr(await b1.ack('chat:participants:add', { chatId: chat.id, userIds: [e.id] }), 'FORBIDDEN', 'non-admin add');

    const waits = [d1, d2].map((s) => s.next('chat:new', isChat(chat.id)));
    const res = await a1.ok('chat:participants:add', { chatId: chat.id, userIds: [d.id] });
    assertChat(res.chat);
    assert.deepEqual(sortedIds(res.chat.participants), [a.id, b.id, d.id].sort());
    for (const ev of await Promise.all(waits)) {
      assertChat(ev.chat);
      assert.deepEqual(sortedIds(ev.chat.participants), [a.id, b.id, d.id].sort());
    }
    await sendAndExpect(a1, chat.id, 'welcome d', [b1, d1, d2]);
    await sendAndExpect(d1, chat.id, 'hello from d', [a1, b1, d2]);
    // The new member reads history too.
    const list = await d1.ok('message:list', { chatId: chat.id });
    assert.equal(list.messages[0].text, 'before d joined');
    // e was never added: sees nothing.
    assertErr(await e1.ack('chat:get', { chatId: chat.id }), 'NOT_FOUND');
    assert.equal(e1.received('message:new').length, 0);

    assertErr(await a1.ack('chat:participants:add', { chatId: chat.id, userIds: [randomId()] }), 'NOT_FOUND', 'unknown user');
  });

  test('adding to a direct chat is refused', async () => {
    const [a, b, c] = await newUsers(srv, 3);
    const ca = await a.connect();
    const chat = (await ca.ok('chat:create', { type: 'direct', participantId: b.id })).chat;
    assertErr(await ca.ack('chat:participants:add', { chatId: chat.id, userIds: [c.id] }), ['FORBIDDEN', 'VALIDATION_ERROR']);
    assert.equal((await ca.ok('chat:get', { chatId: chat.id })).chat.participants.length, 2);
  });
});

describe('chat:participants:remove', () => {
  test('admin removes; the removed user gets chat:removed and stops receiving at once; non-admin FORBIDDEN', async () => {
    const [a, b, c] = await newUsers(srv, 3);
    const a1 = await a.connect();
    const b1 = await b.connect();
    const c1 = await c.connect();
    const c2 = await c.connect();
    const group = (await a1.ok('chat:create', { type: 'group', name: 'G', participantIds: [b.id, c.id] })).chat;
    const ac = (await a1.ok('chat:create', { type: 'direct', participantId: c.id })).chat;

    assertErr(await b1.ack('chat:participants:remove', { chatId: group.id, userId: c.id }), 'FORBIDDEN', 'non-admin remove');

    const waits = [c1, c2].map((s) => s.next('chat:removed', (p) => p?.chatId === group.id));
    const res = await a1.ok('chat:participants:remove', { chatId: group.id, userId: c.id });
    assertChat(res.chat);
    assert.deepEqual(sortedIds(res.chat.participants), [a.id, b.id].sort());
    for (const ev of await Promise.all(waits)) assert.equal(ev.chatId, group.id);

    const text = 'after c was removed';
    await sendAndExpect(a1, group.id, text, [b1]);
    // Causal barrier on another chat c is still in: anything sent to c's sockets for the
    // group message would have arrived before this.
    await barrier(a1, ac.id, [c1, c2]);
    for (const s of [c1, c2]) assert.equal(s.received('message:new', isText(text)).length, 0, 'a removed member gets no messages');
    assertErr(await c1.ack('chat:get', { chatId: group.id }), 'NOT_FOUND');
    assertErr(await c1.ack('message:new', { chatId: group.id, text: 'let me in' }), 'NOT_FOUND');
    assertErr(await c1.ack('message:list', { chatId: group.id }), 'NOT_FOUND');
    assert.ok(!ids((await c1.ok('chat:list', {})).chats).includes(group.id));
  });

  test('removing the last admin is refused', async () => {
    const [a, b] = await newUsers(srv, 2);
    const ca = await a.connect();
    const chat = (await ca.ok('chat:create', { type: 'group', name: 'G', participantIds: [b.id] })).chat;
    const res = await ca.ack('chat:participants:remove', { chatId: chat.id, userId: a.id });
    assertErr(res, ['VALIDATION_ERROR', 'FORBIDDEN', 'CONFLICT']);
    const after = (await ca.ok('chat:get', { chatId: chat.id })).chat;
    assert.deepEqual(after.admins, [a.id]);
    assert.deepEqual(sortedIds(after.participants), [a.id, b.id].sort());
  });
});

describe('chat:admin:set', () => {
  test('grant and revoke; a group always keeps one admin; non-admin FORBIDDEN', async () => {
    const [a, b, c] = await newUsers(srv, 3);
    const ca = await a.connect();
    const cb = await b.connect();
    const cc = await c.connect();
    const chat = (await ca.ok('chat:create', { type: 'group', name: 'G', participantIds: [b.id, c.id] })).chat;
    assertErr(await cc.ack('chat:admin:set', { chatId: chat.id, userId: c.id, admin: true }), 'FORBIDDEN', 'non-admin grants');
    let res = await ca.ok('chat:admin:set', { chatId: chat.id, userId: b.id, admin: true });
    assertChat(res.chat);
    assert.deepEqual([...res.chat.admins].sort(), [a.id, b.id].sort());
    res = await cb.ok('chat:admin:set', { chatId: chat.id, userId: a.id, admin: false });
    assert.deepEqual(res.chat.admins, [b.id]);
    // a is no longer admin.
    assertErr(await ca.ack('chat:update', { chatId: chat.id, name: 'x' }), 'FORBIDDEN');
    assertErr(await ca.ack('chat:admin:set', { chatId: chat.id, userId: a.id, admin: true }), 'FORBIDDEN');
    // b is the only admin and cannot step down.
    assertErr(await cb.ack('chat:admin:set', { chatId: chat.id, userId: b.id, admin: false }), ['VALIDATION_ERROR', 'FORBIDDEN', 'CONFLICT']);
    assert.deepEqual((await cc.ok('chat:get', { chatId: chat.id })).chat.admins, [b.id]);
  });
});

describe('chat:leave', () => {
  test('a member leaves a group: {} ack, chat:removed on their other tab, no more messages', async () => {
    const [a, b, c] = await newUsers(srv, 3);
    const a1 = await a.connect();
    const b1 = await b.connect();
    const c1 = await c.connect();
    const c2 = await c.connect();
    const group = (await a1.ok('chat:create', { type: 'group', name: 'G', participantIds: [b.id, c.id] })).chat;
    const ac = (await a1.ok('chat:create', { type: 'direct', participantId: c.id })).chat;
    const waitC2 = c2.next('chat:removed', (p) => p?.chatId === group.id);
    await c1.ok('chat:leave', { chatId: group.id });
    assert.equal((await waitC2).chatId, group.id);
    const members = (await a1.ok('chat:get', { chatId: group.id })).chat.participants;
    assert.deepEqual(sortedIds(members), [a.id, b.id].sort());
    const text = 'after c left';
    await sendAndExpect(a1, group.id, text, [b1]);
    await barrier(a1, ac.id, [c1, c2]);
    for (const s of [c1, c2]) assert.equal(s.received('message:new', isText(text)).length, 0);
    assert.equal(c1.received('chat:removed', (p) => p?.chatId === group.id).length, 0, 'the acting socket gets no chat:removed');
    assertErr(await c1.ack('chat:get', { chatId: group.id }), 'NOT_FOUND');
  });

  test('a direct chat cannot be left', async () => {
    const [a, b] = await newUsers(srv, 2);
    const ca = await a.connect();
    const chat = (await ca.ok('chat:create', { type: 'direct', participantId: b.id })).chat;
    assertErr(await ca.ack('chat:leave', { chatId: chat.id }), ['VALIDATION_ERROR', 'FORBIDDEN']);
    assert.equal((await ca.ok('chat:get', { chatId: chat.id })).chat.participants.length, 2);
  });

  test('when the last admin leaves, the longest-standing member becomes admin', async () => {
    // Register in reverse so ids sort opposite to join order: the pick must follow
    // membership age, not id order.
    const d = await newUser(srv);
    const c = await newUser(srv);
    const b = await newUser(srv);
    const a = await newUser(srv);
    const ca = await a.connect();
    const cb = await b.connect();
    const chat = (await ca.ok('chat:create', { type: 'group', name: 'G', participantIds: [b.id] })).chat;
    await ca.ok('chat:participants:add', { chatId: chat.id, userIds: [c.id] });
    await ca.ok('chat:participants:add', { chatId: chat.id, userIds: [d.id] });
    await ca.ok('chat:leave', { chatId: chat.id });
    const after = (await cb.ok('chat:get', { chatId: chat.id })).chat;
    assert.deepEqual(after.admins, [b.id], 'b joined first after a');
    assert.deepEqual(sortedIds(after.participants), [b.id, c.id, d.id].sort());
    // And b can act as admin.
    await cb.ok('chat:update', { chatId: chat.id, name: 'New admin' });
  });
});
