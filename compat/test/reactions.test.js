// Reactions (PROTOCOL.md message:react / message:unreact, Message.reactions): the ack, the
// message:reaction broadcast (to the chat and the reactor's other tabs, never the acting
// socket), idempotence, the emoji rules, the 20-emoji limit, deleted and foreign messages,
// and 50 users reacting to one message at once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer, TEST_JWT_SECRET } from '../lib/server.js';
import { connect } from '../lib/client.js';
import { signHS256 } from '../lib/jwt.js';
import { assertErr, assertMessage, barrier, newUsers, randomId } from '../lib/fixtures.js';

// Reactions are counted with messages by the per-user event limits; these tests are about
// reactions, not limits.
const unlimited = {
  RATE_LIMIT_PER_SEC: '1000000', RATE_LIMIT_BURST: '1000000',
  RATE_MESSAGES_PER_SEC: '1000000', RATE_MESSAGES_BURST: '1000000',
};

let srv;
before(async () => { srv = await startServer({ env: unlimited }); });
after(async () => { await stopServer(srv); });

/** reactions as [emoji, count, userIds] triples. */
const flat = (rs) => rs.map((r) => [r.emoji, r.count, r.userIds]);

function assertReactions(rs, what) {
  assert.ok(Array.isArray(rs), `${what}: reactions must be an array: ${JSON.stringify(rs)}`);
  for (const r of rs) {
    assert.equal(typeof r.emoji, 'string', `${what}: emoji`);
    assert.ok(Number.isInteger(r.count) && r.count >= 1, `${what}: count`);
    assert.ok(Array.isArray(r.userIds) && r.userIds.length === r.count, `${what}: count is userIds.length: ${JSON.stringify(r)}`);
  }
}

/** The ack with the probed id masked, so answers for different ids can be compared. */
const masked = (res, id) => JSON.parse(JSON.stringify(res).split(id).join('<id>'));

describe('reactions', () => {
  let a; let b; let o; let a1; let a2; let b1; let o1; let chat; let msg;
  before(async () => {
    [a, b, o] = await newUsers(srv, 3);
    a1 = await a.connect();
    a2 = await a.connect(); // a's second tab
    b1 = await b.connect();
    o1 = await o.connect();
    const w = b1.next('chat:new');
    chat = (await a1.ok('chat:create', { type: 'group', name: 'Reactions', participantIds: [b.id] })).chat;
    await w;
    msg = (await b1.ok('message:new', { chatId: chat.id, text: 'react to this' })).message;
    assertMessage(msg);
    assert.deepEqual(msg.reactions, [], 'a new message has reactions: []');
  });

  test('react: the ack carries the message, the chat and the reactor\'s other tab get message:reaction', async () => {
    const toB = b1.next('message:reaction');
    const toA2 = a2.next('message:reaction');
    const res = await a1.ok('message:react', { messageId: msg.id, emoji: '👍' });
    assertMessage(res.message);
    assertReactions(res.message.reactions, 'ack');
    assert.deepEqual(flat(res.message.reactions), [['👍', 1, [a.id]]]);
    for (const ev of [await toB, await toA2]) {
      assert.deepEqual(Object.keys(ev).sort(), ['chatId', 'messageId', 'reactions']);
      assert.equal(ev.chatId, chat.id);
      assert.equal(ev.messageId, msg.id);
      assert.deepEqual(flat(ev.reactions), [['👍', 1, [a.id]]]);
    }
    await barrier(b1, chat.id, [a1]);
    assert.equal(a1.received('message:reaction').length, 0, 'the acting socket learns from its ack only');
  });

  test('order of first use, users in the order they reacted; every read shows them', async () => {
    await b1.ok('message:react', { messageId: msg.id, emoji: '❤️' });
    await b1.ok('message:react', { messageId: msg.id, emoji: '👍' });
    const res = await a1.ok('message:react', { messageId: msg.id, emoji: ':party_parrot:' });
    const want = [['👍', 2, [a.id, b.id]], ['❤️', 1, [b.id]], [':party_parrot:', 1, [a.id]]];
    assert.deepEqual(flat(res.message.reactions), want);
    const listed = (await b1.ok('message:list', { chatId: chat.id })).messages.find((m) => m.id === msg.id);
    assert.deepEqual(flat(listed.reactions), want, 'message:list');
    const synced = (await b1.ok('sync', { cursors: { [chat.id]: 0 } })).messages.find((m) => m.id === msg.id);
    assert.deepEqual(flat(synced.reactions), want, 'sync');
    const c = (await b1.ok('chat:list', {})).chats.find((x) => x.id === chat.id);
    assert.deepEqual(c.lastMessage.reactions, [], 'chat:list lastMessage (a barrier message) has reactions: []');
  });

  test('reacting twice and unreacting what you did not react are successes that change and broadcast nothing', async () => {
    const before = b1.received('message:reaction').length;
    const again = await a1.ok('message:react', { messageId: msg.id, emoji: '👍' });
    assert.deepEqual(flat(again.message.reactions)[0], ['👍', 2, [a.id, b.id]]);
    const none = await a1.ok('message:unreact', { messageId: msg.id, emoji: '🙈' });
    assert.equal(none.message.reactions.length, 3);
    await barrier(a1, chat.id, [b1]);
    assert.equal(b1.received('message:reaction').length, before, 'a no-op was broadcast');
  });

  test('unreact: the emoji goes with its last user', async () => {
    const toB = b1.next('message:reaction', (p) => p.reactions.length === 2);
    const res = await a1.ok('message:unreact', { messageId: msg.id, emoji: ':party_parrot:' });
    assert.deepEqual(flat(res.message.reactions), [['👍', 2, [a.id, b.id]], ['❤️', 1, [b.id]]]);
    assert.deepEqual(flat((await toB).reactions), flat(res.message.reactions));
    const res2 = await a1.ok('message:unreact', { messageId: msg.id, emoji: '👍' });
    assert.deepEqual(flat(res2.message.reactions), [['👍', 1, [b.id]], ['❤️', 1, [b.id]]]);
  });

  test('invalid emoji strings are VALIDATION_ERROR on emoji', async () => {
    for (const emoji of ['👍👍', '👍❤️', 'ok', 'a', '', ' 👍', `:${'x'.repeat(31)}:`, ':Caps:', ':no spaces:', '🏻', '🇫', 'e\u0301']) {
      for (const event of ['message:react', 'message:unreact']) {
        const res = await b1.ack(event, { messageId: msg.id, emoji });
        assertErr(res, 'VALIDATION_ERROR', `${event} ${JSON.stringify(emoji)}`);
        assert.ok(res.issues.some((i) => i.path === 'emoji'), `${event} ${JSON.stringify(emoji)}: issues ${JSON.stringify(res.issues)}`);
      }
    }
    for (const payload of [{ messageId: msg.id }, { messageId: msg.id, emoji: 1 }, { messageId: msg.id, emoji: '👍', extra: 1 },
      { emoji: '👍' }, { messageId: { $ne: null }, emoji: '👍' }]) {
      assertErr(await b1.ack('message:react', payload), 'VALIDATION_ERROR', JSON.stringify(payload));
    }
    // Single emoji of every kind are fine.
    for (const emoji of ['👍🏽', '👩‍💻', '🏳️‍🌈', '🇫🇷', '1️⃣', `:${'x'.repeat(30)}:`]) {
      await b1.ok('message:react', { messageId: msg.id, emoji });
      await b1.ok('message:unreact', { messageId: msg.id, emoji });
    }
  });

  test('the 21st distinct emoji is refused; an emoji already there still counts more users', async () => {
    const m = (await a1.ok('message:new', { chatId: chat.id, text: 'twenty emoji' })).message;
    for (let i = 0; i < 20; i++) await a1.ok('message:react', { messageId: m.id, emoji: `:e${i}:` });
    const res = await b1.ack('message:react', { messageId: m.id, emoji: '🍕' });
    assertErr(res, 'VALIDATION_ERROR', '21st emoji');
    assert.ok(res.issues.some((i) => i.path === 'emoji'));
    const ok = await b1.ok('message:react', { messageId: m.id, emoji: ':e3:' });
    assert.equal(ok.message.reactions.length, 20);
    assert.deepEqual(flat(ok.message.reactions)[3], [':e3:', 2, [a.id, b.id]]);
    await a1.ok('message:unreact', { messageId: m.id, emoji: ':e0:' });
    const swapped = await b1.ok('message:react', { messageId: m.id, emoji: '🍕' });
    assert.equal(swapped.message.reactions.length, 20);
    assert.equal(swapped.message.reactions.at(-1).emoji, '🍕');
  });

  test('a deleted message answers NOT_FOUND, exactly as a nonexistent one', async () => {
    const m = (await a1.ok('message:new', { chatId: chat.id, text: 'soon gone' })).message;
    await b1.ok('message:react', { messageId: m.id, emoji: '👍' });
    await a1.ok('message:delete', { messageId: m.id });
    for (const event of ['message:react', 'message:unreact']) {
      const real = await b1.ack(event, { messageId: m.id, emoji: '👍' });
      const fakeId = randomId();
      const fake = await b1.ack(event, { messageId: fakeId, emoji: '👍' });
      assertErr(real, 'NOT_FOUND', `${event} on a deleted message`);
      assert.deepEqual(masked(real, m.id), masked(fake, fakeId));
    }
    const listed = (await b1.ok('message:list', { chatId: chat.id })).messages.find((x) => x.id === m.id);
    assert.equal(listed.deleted, true);
    assert.deepEqual(listed.reactions, [], 'a deleted message shows no reactions');
  });

  test('an outsider probing a message gets NOT_FOUND exactly as for a nonexistent id, and nobody hears of it', async () => {
    for (const event of ['message:react', 'message:unreact']) {
      const real = await o1.ack(event, { messageId: msg.id, emoji: '👍' });
      const fakeId = randomId();
      const fake = await o1.ack(event, { messageId: fakeId, emoji: '👍' });
      assertErr(real, 'NOT_FOUND', `${event} (foreign)`);
      assert.deepEqual(masked(real, msg.id), masked(fake, fakeId), `${event}: foreign and nonexistent must answer alike`);
      assert.ok(!JSON.stringify(real).includes('react to this'), 'the answer leaks content');
    }
    const count = b1.received('message:reaction').length;
    await barrier(a1, chat.id, [b1]);
    assert.equal(b1.received('message:reaction').length, count, 'a probe was broadcast');
    const now = (await b1.ok('message:list', { chatId: chat.id })).messages.find((m) => m.id === msg.id);
    assert.ok(!now.reactions.some((r) => r.userIds.includes(o.id)), 'the outsider\'s reaction was stored');
  });
});

test('50 users reacting to one message at once end with exact counts', { timeout: 120_000 }, async () => {
  const [owner] = await newUsers(srv, 1);
  const c0 = await owner.connect();
  // 50 users of an external identity provider (created on first connect, no password hashing).
  const reactors = await Promise.all(Array.from({ length: 50 }, async (_, i) => {
    const id = randomId();
    const c = await connect(srv, signHS256({ sub: id, name: `Reactor ${i}` }, TEST_JWT_SECRET), { label: `reactor${i}` });
    return { id, c };
  }));
  const joined = reactors.map(({ c }) => c.next('chat:new', () => true, 15_000));
  const chat = (await c0.ok('chat:create', { type: 'group', name: 'Crowd', participantIds: reactors.map((r) => r.id) })).chat;
  await Promise.all(joined);
  const m = (await c0.ok('message:new', { chatId: chat.id, text: 'everyone react' })).message;

  // All at once: each reacts 👍, the first 20 also 🎉.
  const acks = await Promise.all(reactors.flatMap(({ c }, i) => [
    c.ack('message:react', { messageId: m.id, emoji: '👍' }, 30_000),
    ...(i < 20 ? [c.ack('message:react', { messageId: m.id, emoji: '🎉' }, 30_000)] : []),
  ]));
  for (const res of acks) assert.equal(res.success, true, JSON.stringify(res));
  let got = (await c0.ok('message:list', { chatId: chat.id })).messages.find((x) => x.id === m.id).reactions;
  assert.deepEqual(got.map((r) => [r.emoji, r.count]), [['👍', 50], ['🎉', 20]]);
  assert.deepEqual([...got[0].userIds].sort(), reactors.map((r) => r.id).sort());
  assert.deepEqual([...got[1].userIds].sort(), reactors.slice(0, 20).map((r) => r.id).sort());

  // Then at once: the first 25 take 👍 back while the same 25 react again with 🎉 (5 new).
  const acks2 = await Promise.all(reactors.slice(0, 25).flatMap(({ c }) => [
    c.ack('message:unreact', { messageId: m.id, emoji: '👍' }, 30_000),
    c.ack('message:react', { messageId: m.id, emoji: '🎉' }, 30_000),
  ]));
  for (const res of acks2) assert.equal(res.success, true, JSON.stringify(res));
  got = (await c0.ok('message:list', { chatId: chat.id })).messages.find((x) => x.id === m.id).reactions;
  assert.deepEqual(got.map((r) => [r.emoji, r.count]), [['👍', 25], ['🎉', 25]]);
  assert.deepEqual([...got[0].userIds].sort(), reactors.slice(25).map((r) => r.id).sort());
  assert.deepEqual([...got[1].userIds].sort(), reactors.slice(0, 25).map((r) => r.id).sort());
  const listed = (await c0.ok('chat:list', {})).chats.find((x) => x.id === chat.id);
  assert.deepEqual(listed.lastMessage.reactions, got, 'chat:list lastMessage carries the reactions');

  // The owner saw one message:reaction per change (50 + 20 + 25 + 5), the last with the final state.
  const deadline = Date.now() + 10_000;
  while (c0.received('message:reaction').length < 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const evs = c0.received('message:reaction', (p) => p.messageId === m.id);
  assert.equal(evs.length, 100, 'one broadcast per change');
  for (const r of reactors) r.c.close();
});
