// Mentions (PROTOCOL.md Message.mentions, Chat.unreadMentions, `mention` notifications):
// which "@handle"s count (members only, any case, whole handles, not e-mail addresses), what
// an outsider can learn (nothing), the notifications (one per message for a mentioned
// member with no socket, never collapsed, also through a mute), edits (only the newly
// mentioned are notified, nobody twice), and the unread count the read mark takes down.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer } from '../lib/server.js';
import {
  assertChat, assertErr, assertMessage, barrier, newUser, newUsers, randomHandle, randomId, waitOffline,
} from '../lib/fixtures.js';

let srv;
// A short reload grace: these tests wait for users to be offline.
before(async () => { srv = await startServer({ env: { PRESENCE_GRACE_MS: '200' } }); });
after(async () => { await stopServer(srv); });

/** The user's notifications of `type` (read or not), newest first. */
async function notes(client, type) {
  const { notifications } = await client.ok('notification:list', { limit: 100 });
  return notifications.filter((n) => n.type === type);
}

/**
 * The notifications of `type` of a user who has no socket: opens one, asks, closes it and
 * waits until `observer` sees the user offline again, so what follows finds them away.
 */
async function notesOf(user, type, observer) {
  const c = await user.connect();
  try {
    return await notes(c, type);
  } finally {
    c.close();
    await waitOffline(observer, user.id);
  }
}

/** An answer with the given values masked, to compare two answers. */
const masked = (res, pairs) => {
  let s = JSON.stringify(res);
  for (const [value, mask] of pairs) s = s.split(value).join(mask);
  return JSON.parse(s);
};

/** A message with what differs between two sends (id, seq, time, one handle) taken out. */
const stripped = (m, handle) => ({ ...m, id: '<id>', seq: 0, createdAt: '<t>', text: m.text.split(handle).join('<h>') });

describe('which @handles are mentions', () => {
  let a; let b; let c; let o; let a1; let b1; let o1; let chat;
  before(async () => {
    [a, c, o] = await newUsers(srv, 3);
    b = await newUser(srv, { handle: randomHandle('Caps') }); // registered with capitals, stored lower case
    a1 = await a.connect();
    b1 = await b.connect();
    o1 = await o.connect();
    chat = (await a1.ok('chat:create', { type: 'group', name: 'Mentions', participantIds: [b.id, c.id] })).chat;
  });

  test('members by handle, any case, in order of first mention, each once, never the sender', async () => {
    const text = [
      `@${c.handle}, and @${b.handle.toUpperCase()}:`, // both; b in capitals
      `mail ops@${c.handle} or ${b.handle}@example.com`, // e-mail addresses
      `not @${c.handle}x nor @${c.handle.slice(0, -1)}`, // no prefix or longer-handle matches
      `@${o.handle} is no member, @everyone is not a thing, @nobody_${randomId().slice(0, 8)} nobody`,
      `me: @${a.handle}; again @${b.handle}.`, // the sender; a repeat with a trailing dot
    ].join(' ');
    const live = b1.next('message:new', (p) => p.message.text === text);
    const { message } = await a1.ok('message:new', { chatId: chat.id, text });
    assertMessage(message);
    assert.deepEqual(message.mentions, [c.id, b.id]);
    const got = (await live).message;
    assertMessage(got);
    assert.deepEqual(got.mentions, [c.id, b.id], 'message:new carries the mentions');

    const listed = (await b1.ok('message:list', { chatId: chat.id })).messages.find((m) => m.id === message.id);
    assert.deepEqual(listed.mentions, [c.id, b.id], 'message:list');
    const synced = (await b1.ok('sync', { cursors: { [chat.id]: 0 } })).messages.find((m) => m.id === message.id);
    assert.deepEqual(synced.mentions, [c.id, b.id], 'sync');
    const last = (await b1.ok('chat:list', {})).chats.find((x) => x.id === chat.id).lastMessage;
    assert.deepEqual(last.mentions, [c.id, b.id], 'chat:list lastMessage');
  });

  test('a message without mentions has mentions: []; a trailing dot is punctuation', async () => {
    const plain = (await a1.ok('message:new', { chatId: chat.id, text: 'nobody here, ops@example.com' })).message;
    assert.deepEqual(plain.mentions, []);
    const dotted = (await a1.ok('message:new', { chatId: chat.id, text: `thanks @${b.handle}...` })).message;
    assert.deepEqual(dotted.mentions, [b.id]);
  });

  test('a mention of a non-member is ignored, and reads exactly like a handle nobody has', async () => {
    // o exists but is no member; the other handle belongs to nobody. Same answer shape.
    const nobody = randomHandle('ghost');
    const r1 = await a1.ok('message:new', { chatId: chat.id, text: `hi @${o.handle}` });
    const r2 = await a1.ok('message:new', { chatId: chat.id, text: `hi @${nobody}` });
    assert.deepEqual(r1.message.mentions, []);
    assert.deepEqual({ ...r1, message: stripped(r1.message, o.handle) }, { ...r2, message: stripped(r2.message, nobody) });
    await barrier(a1, chat.id, [b1]);
    assert.deepEqual(await notes(o1, 'mention'), [], 'the outsider was notified');
    assert.equal(o1.received('message:new').length, 0, 'the outsider received a message');
  });

  test('an outsider probing: sends into the chat are NOT_FOUND exactly as for a nonexistent one, and notify nobody', async () => {
    const text = `@${a.handle} @${b.handle} @${c.handle}`;
    const real = await o1.ack('message:new', { chatId: chat.id, text });
    const fakeId = randomId();
    const fake = await o1.ack('message:new', { chatId: fakeId, text });
    assertErr(real, 'NOT_FOUND');
    assert.deepEqual(masked(real, [[chat.id, '<id>']]), masked(fake, [[fakeId, '<id>']]));
    // Nor may an outsider edit a member's message to mention someone.
    const { message } = await a1.ok('message:new', { chatId: chat.id, text: 'mine' });
    const realEdit = await o1.ack('message:edit', { messageId: message.id, text });
    const fakeMsg = randomId();
    const fakeEdit = await o1.ack('message:edit', { messageId: fakeMsg, text });
    assertErr(realEdit, 'NOT_FOUND');
    assert.deepEqual(masked(realEdit, [[message.id, '<id>']]), masked(fakeEdit, [[fakeMsg, '<id>']]));
    await barrier(a1, chat.id, [b1]);
    assert.equal(b1.received('message:new', (p) => p.message.text === text).length, 0);
    const fromOutsider = (await notesOf(c, 'mention', a1)).filter((n) => n.data.senderId === o.id);
    assert.deepEqual(fromOutsider, [], 'c (offline) was notified by the outsider');
    const listed = (await a1.ok('message:list', { chatId: chat.id })).messages;
    assert.ok(!listed.some((m) => m.text === text), 'the outsider\'s text was stored');
  });
});

describe('mention notifications', () => {
  let a; let b; let c; let d; let e; let a1; let e1; let chat;
  before(async () => {
    // b and d never connect here; c mutes the chat and goes away; e stays connected.
    [a, b, c, d, e] = await newUsers(srv, 5);
    a1 = await a.connect();
    e1 = await e.connect();
    chat = (await a1.ok('chat:create', { type: 'group', name: 'Ping', participantIds: [b.id, c.id, d.id, e.id] })).chat;
    const c1 = await c.connect();
    await c1.ok('chat:mute', { chatId: chat.id });
    c1.close();
    await waitOffline(a1, c.id);
  });

  test('a mentioned member with no socket gets one mention notification per message, also through a mute', async () => {
    const m1 = (await a1.ok('message:new', { chatId: chat.id, text: `@${b.handle} @${c.handle} @${e.handle} look` })).message;
    assert.deepEqual(m1.mentions, [b.id, c.id, e.id]);
    assert.equal((await e1.next('message:new', (p) => p.message.id === m1.id)).message.mentions.length, 3);
    const m2 = (await a1.ok('message:new', { chatId: chat.id, text: `@${b.handle} again` })).message;

    const bMentions = await notesOf(b, 'mention', a1);
    assert.equal(bMentions.length, 2, `never collapsed: ${JSON.stringify(bMentions)}`);
    assert.deepEqual(bMentions.map((n) => n.data), [
      { chatId: chat.id, messageId: m2.id, seq: m2.seq, senderId: a.id },
      { chatId: chat.id, messageId: m1.id, seq: m1.seq, senderId: a.id },
    ]);
    assert.ok(bMentions.every((n) => n.read === false));
    const bMessages = await notesOf(b, 'message', a1);
    assert.equal(bMessages.length, 1, 'b\'s message notification collapses as before');
    assert.equal(bMessages[0].data.count, 2);

    assert.deepEqual((await notesOf(c, 'mention', a1)).map((n) => n.data.messageId), [m1.id], 'muted c is mentioned');
    assert.deepEqual(await notesOf(c, 'message', a1), [], 'muted c gets no message notification');
    assert.deepEqual(await notesOf(d, 'mention', a1), [], 'd was not mentioned');
    assert.equal((await notesOf(d, 'message', a1)).length, 1, 'd gets the message notification');
    assert.deepEqual(await notes(e1, 'mention'), [], 'connected e gets the message itself, no notification');
  });

  test('editing: only the newly mentioned are notified, nobody twice', async () => {
    const { message } = await a1.ok('message:new', { chatId: chat.id, text: `@${b.handle} first` });
    const before = { b: (await notesOf(b, 'mention', a1)).length, d: (await notesOf(d, 'mention', a1)).length };

    // Adding d: d is notified, b is not notified again.
    let up = e1.next('message:updated', (p) => p.message.id === message.id);
    let res = await a1.ok('message:edit', { messageId: message.id, text: `@${b.handle} and @${d.handle}` });
    assertMessage(res.message);
    assert.deepEqual(res.message.mentions, [b.id, d.id]);
    assert.deepEqual((await up).message.mentions, [b.id, d.id], 'message:updated carries the new mentions');
    const dNotes = await notesOf(d, 'mention', a1);
    assert.equal(dNotes.length, before.d + 1);
    assert.equal(dNotes[0].data.messageId, message.id);
    assert.equal((await notesOf(b, 'mention', a1)).length, before.b, 'b was notified again');

    // Removing b: the mentions follow, nobody is notified.
    up = e1.next('message:updated', (p) => p.message.id === message.id && p.message.mentions.length === 1);
    res = await a1.ok('message:edit', { messageId: message.id, text: `only @${d.handle} now` });
    assert.deepEqual(res.message.mentions, [d.id]);
    assert.deepEqual((await up).message.mentions, [d.id]);
    // Adding b back: b was notified of this message already.
    res = await a1.ok('message:edit', { messageId: message.id, text: `@${d.handle} and @${b.handle} again` });
    assert.deepEqual(res.message.mentions, [d.id, b.id]);
    assert.equal((await notesOf(b, 'mention', a1)).length, before.b, 'b notified twice for one message');
    assert.equal((await notesOf(d, 'mention', a1)).length, before.d + 1, 'd notified twice for one message');
    const listed = (await e1.ok('message:list', { chatId: chat.id })).messages.find((m) => m.id === message.id);
    assert.deepEqual(listed.mentions, [d.id, b.id]);
  });
});

test('Chat.unreadMentions counts mentions above the read mark', { timeout: 30_000 }, async () => {
  const [a, b, c] = await newUsers(srv, 3);
  const a1 = await a.connect();
  const b1 = await b.connect();
  const chat = (await a1.ok('chat:create', { type: 'group', name: 'Counts', participantIds: [b.id, c.id] })).chat;
  const send = async (text) => (await a1.ok('message:new', { chatId: chat.id, text })).message;
  const unread = async () => {
    const { chat: view } = await b1.ok('chat:get', { chatId: chat.id });
    assertChat(view);
    return [view.unreadMentions, view.unreadCount];
  };
  assert.deepEqual(await unread(), [0, 0]);
  const m1 = await send(`@${b.handle} one`);
  await send('plain');
  const m3 = await send(`@${c.handle} and @${b.handle}`);
  const m4 = await send(`@${c.handle} only`);
  assert.deepEqual(await unread(), [2, 4]);
  // chat:list and sync say the same.
  assert.equal((await b1.ok('chat:list', {})).chats.find((x) => x.id === chat.id).unreadMentions, 2);
  assert.equal((await b1.ok('sync', { cursors: {} })).chats.find((x) => x.id === chat.id).unreadMentions, 2);
  // The sender's own view: nobody mentions themself.
  assert.equal((await a1.ok('chat:get', { chatId: chat.id })).chat.unreadMentions, 0);

  await b1.ok('message:read', { chatId: chat.id, seq: m1.seq });
  assert.deepEqual(await unread(), [1, 3], 'after reading the first mention');
  // An edit that adds or removes a mention of b moves the count.
  await a1.ok('message:edit', { messageId: m4.id, text: `@${c.handle} and @${b.handle} too` });
  assert.deepEqual(await unread(), [2, 3]);
  await a1.ok('message:edit', { messageId: m4.id, text: `@${c.handle} only` });
  assert.deepEqual(await unread(), [1, 3]);
  // A deleted message is no mention.
  await a1.ok('message:delete', { messageId: m3.id });
  assert.deepEqual(await unread(), [0, 2]);
  const m5 = await send(`@${b.handle} last`);
  assert.deepEqual(await unread(), [1, 3]);
  await b1.ok('message:read', { chatId: chat.id, seq: m5.seq });
  assert.deepEqual(await unread(), [0, 0], 'everything read');
  const { chat: cView } = await (await c.connect()).ok('chat:get', { chatId: chat.id });
  assert.equal(cView.unreadMentions, 1, 'c: m4 (m3 was deleted)');
});
