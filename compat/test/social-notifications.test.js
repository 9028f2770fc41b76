// Notifications: stored for a recipient with no connected socket (message — one per chat,
// collapsed while unread —, friend:request, friend:accepted, chat:added); none for a
// connected recipient; notification:list (newest first, paging, unreadOnly) and
// notification:read (ids or all; other users' ids ignored).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer } from '../lib/server.js';
import { assertErr, newUsers, randomId } from '../lib/fixtures.js';
import { assertNotificationPage, closeSettled, requestBetween, textIs } from '../lib/social.js';

// A long presence grace on purpose: a user whose socket closed stays "online" (presence) for
// 20 s, but has no connected socket, and PROTOCOL.md stores notifications for "a recipient who
// has no connected socket". Everything here that waits for a disconnect waits for the server
// to report it (closeSettled), never for the grace.
let srv;
before(async () => { srv = await startServer({ env: { PRESENCE_GRACE_MS: 20_000, TYPING_TIMEOUT_MS: 1000 } }); });
after(async () => { await stopServer(srv); });

/**
 * notification:list, re-asked after the next notification:new while `check` fails (a
 * notification may be stored just after the action's ack; it then reaches this socket as
 * notification:new). Returns the last page; the caller asserts on it.
 */
async function notesWhen(sock, params, check) {
  for (let round = 0; ; round++) {
    const fresh = sock.next('notification:new', () => true, 2000).catch(() => null);
    const res = assertNotificationPage(await sock.ok('notification:list', params));
    if (check(res) || round >= 2) return res;
    await fresh;
  }
}

const ofType = (res, type) => res.notifications.filter((n) => n.type === type);
const msgNotes = (res, chatId) => res.notifications.filter((n) => n.type === 'message' && n.data.chatId === chatId);
const unreadOf = (res) => res.notifications.filter((n) => !n.read).length;

describe('stored for a recipient with no connected socket', () => {
  test('messages: one notification per chat, collapsed while unread, data {chatId, count, lastMessageId}; a new one after it is read', async () => {
    const [a, b, c] = await newUsers(srv, 3);
    const a1 = await a.connect();
    const d = (await a1.ok('chat:create', { type: 'direct', participantId: b.id })).chat;
    const g = (await a1.ok('chat:create', { type: 'group', name: 'N', participantIds: [b.id, c.id] })).chat;
    const dm = [];
    for (let i = 1; i <= 3; i++) dm.push((await a1.ok('message:new', { chatId: d.id, text: `d${i}` })).message);
    const gm = [];
    for (let i = 1; i <= 2; i++) gm.push((await a1.ok('message:new', { chatId: g.id, text: `g${i}` })).message);

    const b1 = await b.connect();
    const res = await notesWhen(b1, {}, (r) => msgNotes(r, d.id)[0]?.data.count === 3 && msgNotes(r, g.id)[0]?.data.count === 2);
    const msgs = ofType(res, 'message');
    assert.equal(msgs.length, 2, `one message notification per chat: ${JSON.stringify(msgs)}`);
    assert.deepEqual(msgs.map((n) => n.data.chatId), [g.id, d.id], 'newest first');
    const [gn, dn] = msgs;
    assert.deepEqual([dn.data.count, dn.data.lastMessageId, dn.read], [3, dm[2].id, false], 'direct chat notification');
    assert.deepEqual([gn.data.count, gn.data.lastMessageId, gn.read], [2, gm[1].id, false], 'group chat notification');
    assert.equal(res.unreadCount, unreadOf(res), 'unreadCount counts the unread notifications');
    for (let i = 1; i < res.notifications.length; i++) {
      assert.ok(Date.parse(res.notifications[i - 1].createdAt) >= Date.parse(res.notifications[i].createdAt), 'newest first by createdAt');
    }
    // The sender got none.
    assert.deepEqual(ofType(await notesWhen(a1, {}, () => true), 'message'), [], 'the sender got a message notification');

    const c1 = await c.connect();
    const rc = await notesWhen(c1, {}, (r) => msgNotes(r, g.id)[0]?.data.count === 2);
    assert.deepEqual(msgNotes(rc, g.id).map((n) => [n.data.count, n.data.lastMessageId]), [[2, gm[1].id]]);

    // Read the direct chat's notification, go away, get two more messages there.
    const read = await b1.ok('notification:read', { notificationIds: [dn.id] });
    assert.equal(read.unreadCount, res.unreadCount - 1);
    await closeSettled(srv, b1);
    const d4 = (await a1.ok('message:new', { chatId: d.id, text: 'd4' })).message;
    const d5 = (await a1.ok('message:new', { chatId: d.id, text: 'd5' })).message;
    const b2 = await b.connect();
    const res2 = await notesWhen(b2, {}, (r) => msgNotes(r, d.id).some((n) => !n.read && n.data.lastMessageId === d5.id));
    const unreadD = msgNotes(res2, d.id).filter((n) => !n.read);
    assert.equal(unreadD.length, 1, `one unread notification for the chat: ${JSON.stringify(msgNotes(res2, d.id))}`);
    assert.deepEqual([unreadD[0].data.count, unreadD[0].data.lastMessageId], [2, d5.id],
      'a message after the notification was read starts a new count (the read one is not reopened)');
    for (const n of msgNotes(res2, d.id).filter((x) => x.read)) {
      assert.deepEqual([n.id, n.data.count, n.data.lastMessageId], [dn.id, 3, dm[2].id], 'the read notification is unchanged');
    }
    assert.notEqual(d4.id, d5.id);
    assert.deepEqual(msgNotes(res2, g.id).map((n) => [n.data.count, n.read]), [[2, false]], 'the other chat\'s notification is unchanged');
    assert.equal(res2.unreadCount, unreadOf(res2));
  });

  test('a friend request (friend:request) and being added to a chat (chat:added)', async () => {
    const [a, b, c] = await newUsers(srv, 3);
    const a1 = await a.connect();
    const { request } = await a1.ok('friend:request:send', { userId: b.id });
    const g = (await a1.ok('chat:create', { type: 'group', name: 'Added later', participantIds: [c.id] })).chat;
    await a1.ok('chat:participants:add', { chatId: g.id, userIds: [b.id] });

    const b1 = await b.connect();
    const res = await notesWhen(b1, {}, (r) => ofType(r, 'friend:request').length >= 1 && ofType(r, 'chat:added').length >= 1);
    assert.equal(ofType(res, 'friend:request').length, 1, `one friend:request notification: ${JSON.stringify(res.notifications)}`);
    assert.equal(ofType(res, 'chat:added').length, 1, `one chat:added notification: ${JSON.stringify(res.notifications)}`);
    assert.deepEqual(res.notifications.map((n) => n.type), ['chat:added', 'friend:request'], 'newest first');
    assert.equal(res.unreadCount, 2);
    for (const n of res.notifications) assert.equal(n.read, false);
    // And the request itself is there.
    assert.deepEqual((await b1.ok('friend:request:list', {})).incoming.map((r) => r.id), [request.id]);
    // The sender, connected throughout, got none.
    assert.equal((await a1.ok('notification:list', {})).notifications.length, 0);
  });

  test('an accepted request (friend:accepted) for a sender with no socket, also when accepted by sending back', async () => {
    const [a, b, c] = await newUsers(srv, 3);
    const a1 = await a.connect();
    const b1 = await b.connect();
    const c1 = await c.connect();
    const r1 = (await a1.ok('friend:request:send', { userId: b.id })).request;
    const r2 = (await a1.ok('friend:request:send', { userId: c.id })).request;
    await closeSettled(srv, a1);
    await b1.ok('friend:request:accept', { requestId: r1.id });
    const back = await c1.ok('friend:request:send', { userId: a.id }); // accepts r2
    assert.deepEqual([back.request.id, back.request.status], [r2.id, 'accepted']);
    const a2 = await a.connect();
    const res = await notesWhen(a2, {}, (r) => ofType(r, 'friend:accepted').length >= 2);
    assert.equal(ofType(res, 'friend:accepted').length, 2, `two friend:accepted notifications: ${JSON.stringify(res.notifications)}`);
    assert.equal(ofType(res, 'friend:request').length, 0, 'sending back accepts: it is not a new request');
    assert.deepEqual((await a2.ok('friend:list', {})).friends.map((u) => u.id).sort(), [b.id, c.id].sort());
  });

  test('being a participant of a newly created group counts as being added (chat:added)', async () => {
    const [a, b] = await newUsers(srv, 2);
    const a1 = await a.connect();
    await a1.ok('chat:create', { type: 'group', name: 'Created with b', participantIds: [b.id] });
    const b1 = await b.connect();
    const res = await notesWhen(b1, {}, (r) => ofType(r, 'chat:added').length >= 1);
    assert.equal(ofType(res, 'chat:added').length, 1, `chat:added for a group created with b in it: ${JSON.stringify(res.notifications)}`);
  });

  test('a recipient whose socket just closed (still shown online during the presence grace) gets a notification', async () => {
    const [a, b] = await newUsers(srv, 2);
    const a1 = await a.connect();
    const b1 = await b.connect();
    const d = (await a1.ok('chat:create', { type: 'direct', participantId: b.id })).chat;
    await closeSettled(srv, b1);
    const pr = (await a1.ok('presence:get', { userIds: [b.id] })).presence[0];
    assert.equal(pr.online, true, 'within the grace b is still reported online (precondition)');
    const { message } = await a1.ok('message:new', { chatId: d.id, text: 'during the grace' });
    const b2 = await b.connect();
    const res = await notesWhen(b2, {}, (r) => msgNotes(r, d.id).length >= 1);
    assert.deepEqual(msgNotes(res, d.id).map((n) => [n.data.count, n.data.lastMessageId]), [[1, message.id]],
      'no socket connected: a notification must be stored, whatever presence says');
    assert.equal(b2.received('message:new', textIs('during the grace')).length, 0);
  });
});

describe('a connected recipient', () => {
  test('gets the live events and no notification', async () => {
    const [a, b] = await newUsers(srv, 2);
    const a1 = await a.connect();
    const b1 = await b.connect();
    let w = b1.next('chat:new');
    const d = (await a1.ok('chat:create', { type: 'direct', participantId: b.id })).chat;
    await w;
    w = b1.next('chat:new', (p) => p?.chat?.name === 'G1');
    await a1.ok('chat:create', { type: 'group', name: 'G1', participantIds: [b.id] });
    await w;
    w = b1.next('message:new', textIs('live'));
    await a1.ok('message:new', { chatId: d.id, text: 'live' });
    await w;
    w = b1.next('friend:request:new', requestBetween(a.id, b.id));
    const { request } = await a1.ok('friend:request:send', { userId: b.id });
    await w;
    w = a1.next('friend:request:accepted');
    await b1.ok('friend:request:accept', { requestId: request.id });
    await w;
    for (const [s, who] of [[b1, 'b'], [a1, 'a']]) {
      const res = assertNotificationPage(await s.ok('notification:list', {}));
      assert.deepEqual(res.notifications.map((n) => n.type), [], `${who}, connected, got notifications`);
      assert.equal(res.unreadCount, 0);
    }
  });

  test('added to a group while connected: chat:new and no chat:added', async () => {
    const [a, b, c] = await newUsers(srv, 3);
    const a1 = await a.connect();
    const b1 = await b.connect();
    const g = (await a1.ok('chat:create', { type: 'group', name: 'G', participantIds: [c.id] })).chat;
    const w = b1.next('chat:new', (p) => p?.chat?.id === g.id);
    await a1.ok('chat:participants:add', { chatId: g.id, userIds: [b.id] });
    await w;
    const res = assertNotificationPage(await b1.ok('notification:list', {}));
    assert.deepEqual(res.notifications.map((n) => n.type), []);
  });
});

describe('notification:list and notification:read', () => {
  async function fiveChats() {
    const [a, b, c] = await newUsers(srv, 3);
    const a1 = await a.connect();
    const b1 = await b.connect(); // connected while added: no chat:added notifications
    const groups = [];
    for (let i = 1; i <= 5; i++) {
      const w = b1.next('chat:new', (p) => p?.chat?.name === `P${i}`);
      groups.push((await a1.ok('chat:create', { type: 'group', name: `P${i}`, participantIds: [b.id] })).chat);
      await w;
    }
    await closeSettled(srv, b1);
    for (const g of groups) await a1.ok('message:new', { chatId: g.id, text: `in ${g.name}` });
    const b2 = await b.connect();
    const all = await notesWhen(b2, {}, (r) => r.notifications.length >= 5);
    return { a, b, c, a1, b2, groups, all };
  }

  test('newest first; paging with limit, before and nextCursor; unreadOnly; limit ≤ 100', async () => {
    const { b2, groups, all } = await fiveChats();
    const expected = [...groups].reverse().map((g) => g.id);
    assert.deepEqual(all.notifications.map((n) => n.data.chatId), expected, 'newest first');
    assert.equal(all.unreadCount, 5);
    assert.equal(all.nextCursor, null, 'everything fit in the default page');

    const p1 = assertNotificationPage(await b2.ok('notification:list', { limit: 2 }));
    assert.deepEqual(p1.notifications.map((n) => n.data.chatId), expected.slice(0, 2));
    assert.equal(typeof p1.nextCursor, 'string');
    assert.equal(p1.unreadCount, 5, 'unreadCount is the total, not the page\'s');
    const p2 = assertNotificationPage(await b2.ok('notification:list', { limit: 2, before: p1.nextCursor }));
    assert.deepEqual(p2.notifications.map((n) => n.data.chatId), expected.slice(2, 4));
    assert.equal(typeof p2.nextCursor, 'string');
    const p3 = assertNotificationPage(await b2.ok('notification:list', { limit: 2, before: p2.nextCursor }));
    assert.deepEqual(p3.notifications.map((n) => n.data.chatId), expected.slice(4));
    assert.equal(p3.nextCursor, null, 'the last page has no cursor');

    // Read two; unreadOnly lists the other three, also paged.
    const byChat = new Map(all.notifications.map((n) => [n.data.chatId, n]));
    const r = await b2.ok('notification:read', { notificationIds: [byChat.get(groups[3].id).id, byChat.get(groups[1].id).id] });
    assert.equal(r.unreadCount, 3);
    const unread = [groups[4], groups[2], groups[0]].map((g) => g.id);
    const u = assertNotificationPage(await b2.ok('notification:list', { unreadOnly: true }));
    assert.deepEqual(u.notifications.map((n) => n.data.chatId), unread);
    assert.equal(u.unreadCount, 3);
    for (const n of u.notifications) assert.equal(n.read, false);
    const u1 = assertNotificationPage(await b2.ok('notification:list', { unreadOnly: true, limit: 2 }));
    assert.deepEqual(u1.notifications.map((n) => n.data.chatId), unread.slice(0, 2));
    assert.equal(typeof u1.nextCursor, 'string');
    const u2 = assertNotificationPage(await b2.ok('notification:list', { unreadOnly: true, limit: 2, before: u1.nextCursor }));
    assert.deepEqual(u2.notifications.map((n) => n.data.chatId), unread.slice(2));
    assert.equal(u2.nextCursor, null);
    // Without unreadOnly the read ones are still listed, marked read.
    const again = assertNotificationPage(await b2.ok('notification:list', {}));
    assert.deepEqual(again.notifications.map((n) => [n.data.chatId, n.read]), expected.map((id) => [id, !unread.includes(id)]));

    assert.equal((await b2.ok('notification:list', { limit: 100 })).notifications.length, 5);
    assertErr(await b2.ack('notification:list', { limit: 101 }), 'VALIDATION_ERROR', 'limit 101');
    assertErr(await b2.ack('notification:list', { limit: 'x' }), 'VALIDATION_ERROR', 'limit string');
    assertErr(await b2.ack('notification:list', { unreadOnly: 'yes' }), 'VALIDATION_ERROR', 'unreadOnly string');
    assertErr(await b2.ack('notification:list', { before: 5 }), 'VALIDATION_ERROR', 'before number');
  });

  test('notification:read by ids and {all: true} answer {unreadCount}; other users\' and unknown ids are ignored', async () => {
    const { a, a1, b2, all } = await fiveChats();
    // a's own notification, to try from b: a friend request from b while a has no socket.
    await closeSettled(srv, a1);
    await b2.ok('friend:request:send', { userId: a.id });
    const a2 = await a.connect();
    const aList = await notesWhen(a2, {}, (r) => ofType(r, 'friend:request').length === 1);
    const aNote = ofType(aList, 'friend:request')[0];
    assert.ok(aNote, 'precondition: a has a notification');

    const [n0, n1] = all.notifications;
    let r = await b2.ok('notification:read', { notificationIds: [n0.id] });
    assert.equal(r.unreadCount, 4);
    r = await b2.ok('notification:read', { notificationIds: [n0.id] });
    assert.equal(r.unreadCount, 4, 'reading twice changes nothing');
    r = await b2.ok('notification:read', { notificationIds: [aNote.id, randomId()] });
    assert.equal(r.unreadCount, 4, 'another user\'s and an unknown id are ignored');
    const aAfter = assertNotificationPage(await a2.ok('notification:list', {}));
    assert.equal(aAfter.notifications.find((n) => n.id === aNote.id).read, false, 'b marked a\'s notification read');
    assert.equal(aAfter.unreadCount, 1);
    r = await b2.ok('notification:read', { notificationIds: [n1.id, aNote.id] });
    assert.equal(r.unreadCount, 3, 'own ids are read even when mixed with others\'');
    assert.equal(assertNotificationPage(await a2.ok('notification:list', {})).unreadCount, 1);

    r = await b2.ok('notification:read', { all: true });
    assert.equal(r.unreadCount, 0);
    const after = assertNotificationPage(await b2.ok('notification:list', {}));
    assert.equal(after.unreadCount, 0);
    for (const n of after.notifications) assert.equal(n.read, true);
    assert.equal((await b2.ok('notification:list', { unreadOnly: true })).notifications.length, 0);
    assert.equal(assertNotificationPage(await a2.ok('notification:list', {})).unreadCount, 1, 'b\'s {all:true} left a\'s alone');

    assertErr(await b2.ack('notification:read', {}), 'VALIDATION_ERROR', '{}');
    assertErr(await b2.ack('notification:read', { notificationIds: 'x' }), 'VALIDATION_ERROR', 'ids not an array');
    assertErr(await b2.ack('notification:read', { notificationIds: [1] }), 'VALIDATION_ERROR', 'ids not strings');
    assertErr(await b2.ack('notification:read', { all: 'yes' }), 'VALIDATION_ERROR', 'all not a boolean');
  });
});
