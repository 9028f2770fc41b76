// Muted chats (PROTOCOL.md chat:mute / chat:unmute, Chat.mutedUntil): the caller's own
// view and their other tabs, outsiders, the rules for until, and what a mute is for: no
// message notifications for a muted member who is offline, while an unmuted one still
// gets one; a mute with an end stops by itself.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer } from '../lib/server.js';
import { assertChat, assertErr, assertIso, barrier, newUsers, randomId, waitOffline } from '../lib/fixtures.js';

const FOREVER = '9999-12-31T23:59:59.999Z';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let srv;
// A short reload grace: these tests wait for users to be offline.
before(async () => { srv = await startServer({ env: { PRESENCE_GRACE_MS: '200' } }); });
after(async () => { await stopServer(srv); });

const masked = (res, id) => JSON.parse(JSON.stringify(res).split(id).join('<id>'));

/** Unread message notifications of a socket's user for chatId. */
async function messageNotes(client, chatId) {
  const { notifications } = await client.ok('notification:list', { unreadOnly: true });
  return notifications.filter((n) => n.type === 'message' && n.data.chatId === chatId);
}

describe('chat:mute and chat:unmute', () => {
  let a; let b; let o; let a1; let b1; let b2; let o1; let chat;
  before(async () => {
    [a, b, o] = await newUsers(srv, 3);
    a1 = await a.connect();
    b1 = await b.connect();
    b2 = await b.connect(); // b's second tab
    o1 = await o.connect();
    chat = (await a1.ok('chat:create', { type: 'group', name: 'Mute me', participantIds: [b.id] })).chat;
    assert.equal(chat.mutedUntil, null, 'a new chat is not muted');
  });

  test('mute with an end: the ack and the caller\'s other tab show it, nobody else does', async () => {
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const other = b2.next('chat:updated', (p) => p.chat.id === chat.id);
    const res = await b1.ok('chat:mute', { chatId: chat.id, until });
    assertChat(res.chat);
    assert.equal(res.chat.mutedUntil, until);
    assertIso(res.chat.mutedUntil, 'mutedUntil');
    assert.equal((await other).chat.mutedUntil, until);
    await barrier(a1, chat.id, [b1, b2]);
    assert.equal(b1.received('chat:updated').length, 0, 'the acting socket learns from its ack only');
    assert.equal(a1.received('chat:updated').length, 0, 'another member heard of b\'s mute');
    assert.equal((await a1.ok('chat:get', { chatId: chat.id })).chat.mutedUntil, null, 'a mute is the member\'s own');
    assert.equal((await b2.ok('chat:get', { chatId: chat.id })).chat.mutedUntil, until);
    assert.equal((await b2.ok('chat:list', {})).chats.find((c) => c.id === chat.id).mutedUntil, until);
    assert.equal((await b2.ok('sync', { cursors: {} })).chats.find((c) => c.id === chat.id).mutedUntil, until);
  });

  test('mute without an end, and unmute', async () => {
    for (const payload of [{ chatId: chat.id }, { chatId: chat.id, until: null }]) {
      assert.equal((await b1.ok('chat:mute', payload)).chat.mutedUntil, FOREVER);
    }
    const other = b2.next('chat:updated', (p) => p.chat.id === chat.id && p.chat.mutedUntil === null);
    assert.equal((await b1.ok('chat:unmute', { chatId: chat.id })).chat.mutedUntil, null);
    await other;
    assert.equal((await b1.ok('chat:unmute', { chatId: chat.id })).chat.mutedUntil, null, 'unmuting twice is fine');
  });

  test('until in the past, or not an ISO time, is VALIDATION_ERROR', async () => {
    for (const until of [new Date(Date.now() - 60_000).toISOString(), 'tomorrow', '2030-01-01', 1893456000000, true, {}]) {
      const res = await b1.ack('chat:mute', { chatId: chat.id, until });
      assertErr(res, 'VALIDATION_ERROR', `until ${JSON.stringify(until)}`);
      assert.ok(res.issues.some((i) => i.path === 'until'), JSON.stringify(res.issues));
    }
    assertErr(await b1.ack('chat:mute', { chatId: chat.id, forever: true }), 'VALIDATION_ERROR');
    assertErr(await b1.ack('chat:unmute', { chatId: chat.id, until: null }), 'VALIDATION_ERROR');
    assertErr(await b1.ack('chat:mute', {}), 'VALIDATION_ERROR');
    assert.equal((await b1.ok('chat:get', { chatId: chat.id })).chat.mutedUntil, null, 'nothing was stored');
  });

  test('an outsider gets NOT_FOUND exactly as for a nonexistent chat', async () => {
    const until = new Date(Date.now() + 60_000).toISOString();
    for (const [event, payload] of [['chat:mute', (id) => ({ chatId: id, until })], ['chat:mute', (id) => ({ chatId: id })],
      ['chat:unmute', (id) => ({ chatId: id })]]) {
      const real = await o1.ack(event, payload(chat.id));
      const fakeId = randomId();
      const fake = await o1.ack(event, payload(fakeId));
      assertErr(real, 'NOT_FOUND', `${event} (foreign)`);
      assert.deepEqual(masked(real, chat.id), masked(fake, fakeId), `${event}: foreign and nonexistent must answer alike`);
    }
    // Even with a past until: the outsider learns nothing from the validation order.
    assertErr(await o1.ack('chat:mute', { chatId: chat.id, until: new Date(Date.now() - 1000).toISOString() }), 'NOT_FOUND');
    assert.equal(o1.received('chat:updated').length, 0);
  });
});

test('a muted offline member gets no message notification; an unmuted offline member does', { timeout: 30_000 }, async () => {
  const [a, b, c] = await newUsers(srv, 3);
  const a1 = await a.connect();
  let b1 = await b.connect();
  let c1 = await c.connect();
  const chat = (await a1.ok('chat:create', { type: 'group', name: 'Notify', participantIds: [b.id, c.id] })).chat;
  await b1.ok('chat:mute', { chatId: chat.id });
  b1.close();
  c1.close();
  await waitOffline(a1, b.id);
  await waitOffline(a1, c.id);
  const sent = (await a1.ok('message:new', { chatId: chat.id, text: 'while b is muted and away' })).message;
  // Notifications are stored before the message:new ack.
  b1 = await b.connect();
  c1 = await c.connect();
  const cNotes = await messageNotes(c1, chat.id);
  assert.equal(cNotes.length, 1, `c (not muted) has ${JSON.stringify(cNotes)}`);
  assert.equal(cNotes[0].data.lastMessageId, sent.id);
  assert.deepEqual(await messageNotes(b1, chat.id), [], 'b muted the chat');
  // b still gets the message itself.
  const listed = (await b1.ok('message:list', { chatId: chat.id })).messages;
  assert.ok(listed.some((m) => m.id === sent.id));
});

test('a mute with an end stops by itself', { timeout: 30_000 }, async () => {
  const [a, b] = await newUsers(srv, 2);
  const a1 = await a.connect();
  let b1 = await b.connect();
  const chat = (await a1.ok('chat:create', { type: 'direct', participantId: b.id })).chat;
  const until = new Date(Date.now() + 1500).toISOString();
  assert.equal((await b1.ok('chat:mute', { chatId: chat.id, until })).chat.mutedUntil, until);
  b1.close();
  await waitOffline(a1, b.id);
  await a1.ok('message:new', { chatId: chat.id, text: 'during the mute' });
  // Past the end of the mute (a bounded, deliberate wait: the rule is about time).
  await sleep(Math.max(0, Date.parse(until) - Date.now()) + 200);
  const after = (await a1.ok('message:new', { chatId: chat.id, text: 'after the mute' })).message;
  b1 = await b.connect();
  const notes = await messageNotes(b1, chat.id);
  assert.equal(notes.length, 1, JSON.stringify(notes));
  assert.equal(notes[0].data.lastMessageId, after.id);
  assert.equal(notes[0].data.count, 1, `only the message after the mute counts: ${JSON.stringify(notes[0].data)}`);
  assert.equal((await b1.ok('chat:get', { chatId: chat.id })).chat.mutedUntil, null, 'an expired mute reads null');
});
