// sync {cursors, limit} -> {chats, messages, truncated} (PROTOCOL.md "sync").
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer } from '../lib/server.js';
import { assertChat, assertErr, assertMessage, ids, newUsers } from '../lib/fixtures.js';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await stopServer(srv); });

/**
 * The protocol names `messages` without fixing its container: accept a flat Message[] (each
 * message carries chatId) or a { chatId: Message[] } map; return chatId -> Message[].
 */
function byChat(res) {
  const out = new Map();
  if (Array.isArray(res.messages)) {
    for (const m of res.messages) {
      assertMessage(m);
      if (!out.has(m.chatId)) out.set(m.chatId, []);
      out.get(m.chatId).push(m);
    }
  } else {
    assert.ok(res.messages && typeof res.messages === 'object', `sync.messages must be an array or map: ${JSON.stringify(res.messages)}`);
    for (const [chatId, list] of Object.entries(res.messages)) {
      assert.ok(Array.isArray(list));
      list.forEach((m) => { assertMessage(m); assert.equal(m.chatId, chatId); });
      if (list.length) out.set(chatId, list);
    }
  }
  return out;
}

const seqsOf = (map, chatId) => (map.get(chatId) ?? []).map((m) => m.seq);

describe('sync', () => {
  let a;
  let ca;
  let c1; // 10 messages
  let c2; // 3 messages
  let c3; // no messages
  let c4; // 4 messages, never in cursors
  before(async () => {
    const us = await newUsers(srv, 5);
    a = us[0];
    ca = await a.connect();
    const mk = async (u) => (await ca.ok('chat:create', { type: 'direct', participantId: u.id })).chat;
    c1 = await mk(us[1]);
    c2 = await mk(us[2]);
    c3 = await mk(us[3]);
    c4 = await mk(us[4]);
    const send = async (chat, n) => { for (let i = 1; i <= n; i++) await ca.ok('message:new', { chatId: chat.id, text: `${i}` }); };
    await send(c1, 10);
    await send(c2, 3);
    await send(c4, 4);
  });

  test('messages after each cursor, ascending, ≤ limit per chat; truncated names chats with more; chats missing from cursors return only their Chat', async () => {
    const res = await ca.ok('sync', { cursors: { [c1.id]: 4, [c2.id]: 0, [c3.id]: 0 }, limit: 3 });
    assert.ok(Array.isArray(res.chats));
    res.chats.forEach((c) => assertChat(c));
    assert.deepEqual(ids(res.chats).sort(), [c1.id, c2.id, c3.id, c4.id].sort(), 'every chat of the caller');
    const m = byChat(res);
    assert.deepEqual(seqsOf(m, c1.id), [5, 6, 7], 'oldest first after the cursor');
    assert.deepEqual(seqsOf(m, c2.id), [1, 2, 3]);
    assert.deepEqual(seqsOf(m, c3.id), []);
    assert.deepEqual(seqsOf(m, c4.id), [], 'a chat missing from cursors returns no messages');
    assert.deepEqual([...m.keys()].filter((k) => ![c1.id, c2.id].includes(k)), []);
    assert.ok(Array.isArray(res.truncated));
    assert.deepEqual([...res.truncated].sort(), [c1.id], 'only c1 has more');
    const chat4 = res.chats.find((c) => c.id === c4.id);
    assert.equal(chat4.lastSeq, 4, 'the Chat tells the client what it is missing');
  });

  test('default limit 200 returns everything after the cursor; cursor at lastSeq returns nothing', async () => {
    const res = await ca.ok('sync', { cursors: { [c1.id]: 0, [c2.id]: 3 } });
    const m = byChat(res);
    assert.deepEqual(seqsOf(m, c1.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(seqsOf(m, c2.id), []);
    assert.deepEqual(res.truncated, []);
  });

  test('empty cursors: every Chat, no messages', async () => {
    const res = await ca.ok('sync', { cursors: {} });
    assert.equal(res.chats.length, 4);
    assert.equal(byChat(res).size, 0);
    assert.deepEqual(res.truncated, []);
  });

  test('paging on a truncated chat with message:list {after} completes the history', async () => {
    const res = await ca.ok('sync', { cursors: { [c1.id]: 0 }, limit: 4 });
    const got = seqsOf(byChat(res), c1.id);
    assert.deepEqual(got, [1, 2, 3, 4]);
    assert.deepEqual(res.truncated, [c1.id]);
    const rest = await ca.ok('message:list', { chatId: c1.id, after: got.at(-1) });
    assert.deepEqual(rest.messages.map((x) => x.seq), [5, 6, 7, 8, 9, 10]);
  });

  test('limit ≤ 500: 500 is fine, 501 is VALIDATION_ERROR', async () => {
    await ca.ok('sync', { cursors: { [c1.id]: 0 }, limit: 500 });
    assertErr(await ca.ack('sync', { cursors: { [c1.id]: 0 }, limit: 501 }), 'VALIDATION_ERROR');
  });

  test('deleted and edited messages come back in their current state', async () => {
    const list = (await ca.ok('message:list', { chatId: c2.id })).messages;
    await ca.ok('message:edit', { messageId: list[0].id, text: 'edited' });
    await ca.ok('message:delete', { messageId: list[1].id });
    const m = byChat(await ca.ok('sync', { cursors: { [c2.id]: 0 } }));
    const [m1, m2, m3] = m.get(c2.id);
    assert.equal(m1.text, 'edited');
    assert.notEqual(m1.editedAt, null);
    assert.equal(m2.deleted, true);
    assert.equal(m2.text, '');
    assert.equal(m3.text, '3');
  });
});
