// message:new, message:list, message:edit, message:delete, message:read (+ broadcasts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer } from '../lib/server.js';
import { assertChat, assertErr, assertIso, assertMessage, barrier, newUsers, randomId } from '../lib/fixtures.js';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await stopServer(srv); });

const byId = (id) => (p) => p?.message?.id === id;

/** a (two tabs) and b (one tab) in a direct chat; plus a group with a (admin), b, c. */
async function setup() {
  const [a, b, c] = await newUsers(srv, 3);
  const a1 = await a.connect();
  const a2 = await a.connect();
  const b1 = await b.connect();
  const c1 = await c.connect();
  const direct = (await a1.ok('chat:create', { type: 'direct', participantId: b.id })).chat;
  const group = (await a1.ok('chat:create', { type: 'group', name: 'G', participantIds: [b.id, c.id] })).chat;
  return { a, b, c, a1, a2, b1, c1, direct, group };
}

async function fill(client, chatId, n, prefix = 'm') {
  const out = [];
  for (let i = 1; i <= n; i++) out.push((await client.ok('message:new', { chatId, text: `${prefix}${i}` })).message);
  return out;
}

describe('message:new', () => {
  test('ack {message} with seq; message:new to the other member and the sender\'s other tab, not the sending socket', async () => {
    const { a, b, a1, a2, b1, direct } = await setup();
    const waits = [a2, b1].map((s) => s.next('message:new', (p) => p?.message?.text === 'hello'));
    const res = await a1.ok('message:new', { chatId: direct.id, text: 'hello' });
    const m = res.message;
    assertMessage(m);
    assert.equal(m.chatId, direct.id);
    assert.equal(m.seq, 1);
    assert.equal(m.text, 'hello');
    assert.deepEqual(m.sender, { id: a.id, handle: a.handle, name: a.name, image: null });
    assert.equal(m.replyTo, null);
    assert.equal(m.clientId, null);
    assert.equal(m.editedAt, null);
    assert.equal(m.deleted, false);
    for (const ev of await Promise.all(waits)) assert.deepEqual(ev.message, m, 'the broadcast carries the same message');
    const second = (await b1.ok('message:new', { chatId: direct.id, text: 'reply' })).message;
    assert.equal(second.seq, 2);
    assert.equal(second.sender.id, b.id);
    await barrier(b1, direct.id, [a1]);
    assert.equal(a1.received('message:new', byId(m.id)).length, 0, 'the sending socket gets no copy');
    assert.equal(b1.received('message:new', byId(second.id)).length, 0);
    assert.equal(a2.received('message:new', byId(m.id)).length, 1, 'exactly once');
    assert.equal(b1.received('message:new', byId(m.id)).length, 1, 'exactly once');
  });

  test('text is 1–4000 characters after trimming', async () => {
    const { a1, b1, direct } = await setup();
    for (const text of ['', '   ', '\n\t  \n', 'x'.repeat(4001), ` ${'x'.repeat(4001)} `]) {
      assertErr(await a1.ack('message:new', { chatId: direct.id, text }), 'VALIDATION_ERROR', `text of length ${text.length}`);
    }
    await a1.ok('message:new', { chatId: direct.id, text: 'x' });
    await a1.ok('message:new', { chatId: direct.id, text: 'y'.repeat(4000) });
    await a1.ok('message:new', { chatId: direct.id, text: `  ${'z'.repeat(4000)}  ` }); // 4000 after trimming
    await a1.ok('message:new', { chatId: direct.id, text: '\u00e9'.repeat(4000) }); // characters, not UTF-8 bytes
    const list = await b1.ok('message:list', { chatId: direct.id });
    assert.equal(list.messages.length, 4, 'only the valid messages were stored');
    assert.deepEqual(list.messages.map((m) => m.seq), [1, 2, 3, 4], 'rejected messages consume no seq');
    assert.equal(list.messages[1].text, 'y'.repeat(4000));
    assert.equal(list.messages[3].text, '\u00e9'.repeat(4000));
  });

  test('replyTo quotes {id, seq, text, sender}; unknown or other-chat replyTo refused', async () => {
    const { a, a1, b1, c1, direct, group } = await setup();
    const original = (await a1.ok('message:new', { chatId: group.id, text: 'quote me' })).message;
    const wait = c1.next('message:new', (p) => p?.message?.text === 'quoting');
    const reply = (await b1.ok('message:new', { chatId: group.id, text: 'quoting', replyTo: original.id })).message;
    assertMessage(reply);
    assert.deepEqual(reply.replyTo, {
      id: original.id,
      seq: original.seq,
      text: 'quote me',
      sender: { id: a.id, handle: a.handle, name: a.name, image: null },
    });
    assert.deepEqual((await wait).message.replyTo, reply.replyTo);
    const listed = (await c1.ok('message:list', { chatId: group.id })).messages.find((m) => m.id === reply.id);
    assert.deepEqual(listed.replyTo, reply.replyTo);

    const inDirect = (await a1.ok('message:new', { chatId: direct.id, text: 'in the direct chat' })).message;
    assertErr(await b1.ack('message:new', { chatId: group.id, text: 'x', replyTo: inDirect.id }), ['NOT_FOUND', 'VALIDATION_ERROR'], 'replyTo from another chat');
    assertErr(await b1.ack('message:new', { chatId: group.id, text: 'x', replyTo: randomId() }), ['NOT_FOUND', 'VALIDATION_ERROR'], 'unknown replyTo');
    assert.equal((await c1.ok('chat:get', { chatId: group.id })).chat.lastSeq, 2, 'refused replies were not stored');
  });

  test('clientId: the same (sender, chat, clientId) returns the original and broadcasts nothing new', async () => {
    const { a1, a2, b1, direct, group } = await setup();
    const first = (await a1.ok('message:new', { chatId: direct.id, text: 'once', clientId: 'cid-1' })).message;
    assert.equal(first.clientId, 'cid-1');
    const again = (await a1.ok('message:new', { chatId: direct.id, text: 'once', clientId: 'cid-1' })).message;
    assert.equal(again.id, first.id);
    assert.equal(again.seq, first.seq);
    // From another tab of the same user, too.
    const fromTab2 = (await a2.ok('message:new', { chatId: direct.id, text: 'once', clientId: 'cid-1' })).message;
    assert.equal(fromTab2.id, first.id);
    // Another sender, or another chat, with the same clientId is a new message.
    const byB = (await b1.ok('message:new', { chatId: direct.id, text: 'b', clientId: 'cid-1' })).message;
    assert.notEqual(byB.id, first.id);
    assert.equal(byB.seq, first.seq + 1);
    const otherChat = (await a1.ok('message:new', { chatId: group.id, text: 'g', clientId: 'cid-1' })).message;
    assert.notEqual(otherChat.id, first.id);
    await barrier(a1, direct.id, [b1, a2]);
    assert.equal(b1.received('message:new', byId(first.id)).length, 1, 'one broadcast for the retried message');
    assert.equal(a2.received('message:new', byId(first.id)).length, 1);
    const list = await b1.ok('message:list', { chatId: direct.id });
    assert.equal(list.messages.filter((m) => m.clientId === 'cid-1' && m.sender.id === first.sender.id).length, 1);
    // clientId ≤ 64 characters.
    await a1.ok('message:new', { chatId: direct.id, text: 'long id', clientId: 'c'.repeat(64) });
    assertErr(await a1.ack('message:new', { chatId: direct.id, text: 'too long id', clientId: 'c'.repeat(65) }), 'VALIDATION_ERROR');
  });
});

describe('message:list', () => {
  let ctx;
  const seqs = (res) => res.messages.map((m) => m.seq);
  before(async () => {
    ctx = await setup();
    await fill(ctx.a1, ctx.group.id, 10);
  });

  test('no cursor: the newest `limit`, ascending; hasMore toward older', async () => {
    const { b1, group } = ctx;
    const all = await b1.ok('message:list', { chatId: group.id });
    assert.deepEqual(seqs(all), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(all.hasMore, false);
    all.messages.forEach((m) => assertMessage(m));
    assert.deepEqual(all.messages.map((m) => m.text), ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9', 'm10']);
    let res = await b1.ok('message:list', { chatId: group.id, limit: 3 });
    assert.deepEqual(seqs(res), [8, 9, 10]);
    assert.equal(res.hasMore, true);
    res = await b1.ok('message:list', { chatId: group.id, limit: 10 });
    assert.deepEqual(seqs(res), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(res.hasMore, false, 'exactly limit messages and none older');
  });

  test('before only: the newest `limit` with seq < before', async () => {
    const { b1, group } = ctx;
    let res = await b1.ok('message:list', { chatId: group.id, before: 5, limit: 2 });
    assert.deepEqual(seqs(res), [3, 4]);
    assert.equal(res.hasMore, true);
    res = await b1.ok('message:list', { chatId: group.id, before: 3, limit: 2 });
    assert.deepEqual(seqs(res), [1, 2]);
    assert.equal(res.hasMore, false);
    res = await b1.ok('message:list', { chatId: group.id, before: 11, limit: 10 });
    assert.deepEqual(seqs(res), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(res.hasMore, false);
    res = await b1.ok('message:list', { chatId: group.id, before: 1 });
    assert.deepEqual(seqs(res), []);
    assert.equal(res.hasMore, false);
  });

  test('after only: the oldest `limit` with seq > after; hasMore toward newer', async () => {
    const { b1, group } = ctx;
    let res = await b1.ok('message:list', { chatId: group.id, after: 7, limit: 2 });
    assert.deepEqual(seqs(res), [8, 9]);
    assert.equal(res.hasMore, true);
    res = await b1.ok('message:list', { chatId: group.id, after: 8, limit: 2 });
    assert.deepEqual(seqs(res), [9, 10]);
    assert.equal(res.hasMore, false);
    res = await b1.ok('message:list', { chatId: group.id, after: 10 });
    assert.deepEqual(seqs(res), []);
    assert.equal(res.hasMore, false);
    res = await b1.ok('message:list', { chatId: group.id, after: 0, limit: 4 });
    assert.deepEqual(seqs(res), [1, 2, 3, 4]);
    assert.equal(res.hasMore, true);
  });

  test('both: after < seq < before, oldest first, at most limit', async () => {
    const { b1, group } = ctx;
    let res = await b1.ok('message:list', { chatId: group.id, after: 2, before: 9, limit: 3 });
    assert.deepEqual(seqs(res), [3, 4, 5]);
    assert.equal(res.hasMore, true, 'more lie beyond the page, toward newer');
    res = await b1.ok('message:list', { chatId: group.id, after: 2, before: 6 });
    assert.deepEqual(seqs(res), [3, 4, 5]);
    // hasMore is not asserted here: whether messages past `before` count as "beyond the page"
    // is not pinned down by the protocol for a range that fits in one page.
    res = await b1.ok('message:list', { chatId: group.id, after: 4, before: 5 });
    assert.deepEqual(seqs(res), []);
  });

  test('limit ≤ 100; 101 is VALIDATION_ERROR', async () => {
    const { b1, group } = ctx;
    assert.equal((await b1.ok('message:list', { chatId: group.id, limit: 100 })).messages.length, 10);
    assertErr(await b1.ack('message:list', { chatId: group.id, limit: 101 }), 'VALIDATION_ERROR');
  });

  test('default limit is 50', async () => {
    const { a1, b1, direct } = await setup();
    await fill(a1, direct.id, 55);
    const res = await b1.ok('message:list', { chatId: direct.id });
    assert.equal(res.messages.length, 50);
    assert.equal(res.messages[0].seq, 6);
    assert.equal(res.messages[49].seq, 55);
    assert.equal(res.hasMore, true);
  });
});

describe('message:edit', () => {
  test('sender edits; message:updated with editedAt to others and the sender\'s other tab; member FORBIDDEN, outsider NOT_FOUND', async () => {
    const { a1, a2, b1, c1, direct, group } = await setup();
    const m = (await a1.ok('message:new', { chatId: group.id, text: 'typo' })).message;
    const waits = [a2, b1, c1].map((s) => s.next('message:updated', byId(m.id)));
    const res = await a1.ok('message:edit', { messageId: m.id, text: 'fixed' });
    assertMessage(res.message);
    assert.equal(res.message.id, m.id);
    assert.equal(res.message.seq, m.seq);
    assert.equal(res.message.text, 'fixed');
    assertIso(res.message.editedAt, 'editedAt');
    assert.equal(res.message.deleted, false);
    for (const ev of await Promise.all(waits)) {
      assertMessage(ev.message);
      assert.equal(ev.message.text, 'fixed');
      assert.equal(ev.message.editedAt, res.message.editedAt);
    }
    await barrier(b1, group.id, [a1]);
    assert.equal(a1.received('message:updated', byId(m.id)).length, 0, 'the acting socket gets no message:updated');
    const listed = (await c1.ok('message:list', { chatId: group.id })).messages.find((x) => x.id === m.id);
    assert.equal(listed.text, 'fixed');
    assert.equal(listed.editedAt, res.message.editedAt);

    assertErr(await b1.ack('message:edit', { messageId: m.id, text: 'not yours' }), 'FORBIDDEN', 'member, not sender');
    const inDirect = (await a1.ok('message:new', { chatId: direct.id, text: 'private' })).message;
    assertErr(await c1.ack('message:edit', { messageId: inDirect.id, text: 'outsider' }), 'NOT_FOUND', 'outsider');
    assertErr(await c1.ack('message:edit', { messageId: randomId(), text: 'nothing' }), 'NOT_FOUND', 'unknown');
    assertErr(await a1.ack('message:edit', { messageId: m.id, text: '   ' }), 'VALIDATION_ERROR', 'blank text');
    assertErr(await a1.ack('message:edit', { messageId: m.id, text: 'x'.repeat(4001) }), 'VALIDATION_ERROR', 'long text');
    assert.equal((await b1.ok('message:list', { chatId: direct.id })).messages[0].text, 'private');
  });
});

describe('message:delete', () => {
  test('sender deletes: keeps id/seq, deleted true, text ""; message:deleted to others and other tab', async () => {
    const { a1, a2, b1, c1, group } = await setup();
    const m = (await a1.ok('message:new', { chatId: group.id, text: 'oops' })).message;
    await a1.ok('message:new', { chatId: group.id, text: 'stays' });
    const match = (p) => p?.messageId === m.id;
    const waits = [a2, b1, c1].map((s) => s.next('message:deleted', match));
    const res = await a1.ok('message:delete', { messageId: m.id });
    assert.equal(res.messageId, m.id);
    assert.equal(res.chatId, group.id);
    for (const ev of await Promise.all(waits)) {
      assert.equal(ev.chatId, group.id);
      assert.equal(ev.messageId, m.id);
    }
    await barrier(b1, group.id, [a1]);
    assert.equal(a1.received('message:deleted', match).length, 0, 'the acting socket gets no message:deleted');
    const list = (await c1.ok('message:list', { chatId: group.id })).messages;
    const d = list.find((x) => x.id === m.id);
    assertMessage(d);
    assert.equal(d.seq, m.seq);
    assert.equal(d.deleted, true);
    assert.equal(d.text, '');
    assert.equal(list.find((x) => x.text === 'stays').deleted, false);
  });

  test('a group admin may delete others\' messages; a plain member may not; outsider NOT_FOUND', async () => {
    const { a1, b1, c1, direct, group } = await setup();
    const byB = (await b1.ok('message:new', { chatId: group.id, text: 'from b' })).message;
    const byB2 = (await b1.ok('message:new', { chatId: group.id, text: 'from b again' })).message;
    assertErr(await c1.ack('message:delete', { messageId: byB.id }), 'FORBIDDEN', 'plain member');
    const res = await a1.ok('message:delete', { messageId: byB.id });
    assert.equal(res.messageId, byB.id);
    const inDirect = (await b1.ok('message:new', { chatId: direct.id, text: 'direct' })).message;
    assertErr(await c1.ack('message:delete', { messageId: inDirect.id }), 'NOT_FOUND', 'outsider');
    assertErr(await c1.ack('message:delete', { messageId: randomId() }), 'NOT_FOUND', 'unknown');
    // In a direct chat there are no admins: the partner cannot delete.
    assertErr(await a1.ack('message:delete', { messageId: inDirect.id }), 'FORBIDDEN', 'direct partner');
    const list = (await c1.ok('message:list', { chatId: group.id })).messages;
    assert.equal(list.find((x) => x.id === byB.id).deleted, true);
    assert.equal(list.find((x) => x.id === byB2.id).deleted, false);
  });
});

describe('message:read and unreadCount', () => {
  test('read marks move forward only; message:read broadcast {chatId, userId, readSeq}', async () => {
    const { a1, a2, b, b1, c1, group } = await setup();
    const b2 = await b.connect();
    await fill(a1, group.id, 5);
    const match = (n) => (p) => p?.chatId === group.id && p.userId === b.id && p.readSeq === n;
    const waits = [a1, a2, c1, b2].map((s) => s.next('message:read', match(3)));
    const res = await b1.ok('message:read', { chatId: group.id, seq: 3 });
    assert.equal(res.chatId, group.id);
    assert.equal(res.readSeq, 3);
    for (const ev of await Promise.all(waits)) assert.deepEqual({ chatId: ev.chatId, userId: ev.userId, readSeq: ev.readSeq }, { chatId: group.id, userId: b.id, readSeq: 3 });
    const back = await b1.ok('message:read', { chatId: group.id, seq: 2 });
    assert.equal(back.readSeq, 3, 'read marks never move back');
    assert.equal((await b2.ok('chat:get', { chatId: group.id })).chat.readSeq, 3);
    await barrier(a1, group.id, [b1]);
    assert.equal(b1.received('message:read', match(3)).length, 0, 'the acting socket gets no message:read');
    const fwd = await b1.ok('message:read', { chatId: group.id, seq: 5 });
    assert.equal(fwd.readSeq, 5);
  });

  test('unreadCount counts others\' non-deleted messages above readSeq, in chat:get and chat:list', async () => {
    const { a1, b1, group } = await setup();
    const ms = await fill(a1, group.id, 5); // seq 1..5 from a
    const unread = async () => {
      const got = (await b1.ok('chat:get', { chatId: group.id })).chat;
      assertChat(got);
      const listed = (await b1.ok('chat:list', {})).chats.find((c) => c.id === group.id);
      assert.equal(listed.unreadCount, got.unreadCount, 'chat:list and chat:get agree');
      assert.equal(listed.readSeq, got.readSeq);
      return got;
    };
    let got = await unread();
    assert.equal(got.unreadCount, 5);
    assert.equal(got.readSeq, 0);
    await b1.ok('message:new', { chatId: group.id, text: 'mine' }); // seq 6: own messages never count
    got = await unread();
    assert.equal(got.unreadCount, 5);
    await a1.ok('message:delete', { messageId: ms[1].id }); // seq 2 deleted
    assert.equal((await unread()).unreadCount, 4);
    await b1.ok('message:read', { chatId: group.id, seq: 3 });
    got = await unread();
    assert.equal(got.readSeq, 3);
    assert.equal(got.unreadCount, 2, 'seq 4 and 5 from a');
    await b1.ok('message:read', { chatId: group.id, seq: 6 });
    assert.equal((await unread()).unreadCount, 0);
    const aView = (await a1.ok('chat:get', { chatId: group.id })).chat;
    assert.equal(aView.unreadCount, 1, 'a has b\'s message (seq 6) unread');
    assert.equal(aView.lastSeq, 6);
    assert.equal(aView.lastMessage.text, 'mine');
  });
});
