// message:search (PROTOCOL.md): the caller's chats only (never one they left; an outsider's
// chatId is NOT_FOUND like a missing chat), whole words and prefixes, case and accents
// folded, plain-text queries (FTS5 and regular-expression syntax are no operators and no
// error), opaque cursors and paging, deleted messages gone, edits reflected at once. Runs on
// SQLite and on the MongoDB store alike: the answers must be the same.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer } from '../lib/server.js';
import { assertErr, assertMessage, newUsers, randomId } from '../lib/fixtures.js';

// Searches count against the per-user search bucket (5/s, burst 20); these tests are about
// search, not limits (rate-limits.test.js covers the class).
const unlimited = {
  RATE_SEARCH_PER_SEC: '1000000', RATE_SEARCH_BURST: '1000000',
  RATE_MESSAGES_PER_SEC: '1000000', RATE_MESSAGES_BURST: '1000000',
  RATE_LIMIT_PER_SEC: '1000000', RATE_LIMIT_BURST: '1000000',
};

let srv;
before(async () => { srv = await startServer({ env: unlimited }); });
after(async () => { await stopServer(srv); });

/** Texts of a search's results, in order; checks the result's shape on the way. */
async function search(client, payload) {
  const res = await client.ok('message:search', payload);
  assert.deepEqual(Object.keys(res).sort(), ['messages', 'nextCursor', 'success']);
  assert.ok(Array.isArray(res.messages), 'messages is an array');
  assert.ok(res.nextCursor === null || typeof res.nextCursor === 'string', `nextCursor: ${res.nextCursor}`);
  for (const m of res.messages) {
    assertMessage(m);
    assert.equal(m.deleted, false, 'never a deleted message');
  }
  return res;
}
const texts = async (client, payload) => (await search(client, payload)).messages.map((m) => m.text);

describe('message:search', () => {
  let a; let b; let c; let o; let a1; let b1; let c1; let o1; let direct; let group; let other;
  before(async () => {
    [a, b, c, o] = await newUsers(srv, 4);
    [a1, b1, c1, o1] = await Promise.all([a, b, c, o].map((u) => u.connect()));
    direct = (await a1.ok('chat:create', { type: 'direct', participantId: b.id })).chat;
    group = (await a1.ok('chat:create', { type: 'group', name: 'Search', participantIds: [b.id, c.id] })).chat;
    other = (await o1.ok('chat:create', { type: 'group', name: 'Outsiders', participantIds: [c.id] })).chat;
    const send = (client, chat, text) => client.ok('message:new', { chatId: chat.id, text });
    await send(a1, direct, 'Rendez-vous au Café de Flore at noon');
    await send(b1, direct, 'hello there, CAFÉ au lait please');
    await send(c1, group, 'the cafeteria is closed today');
    await send(b1, group, 'Hello HELLO hello world');
    await send(o1, other, 'secret cafe plans for outsiders');
    await send(c1, other, 'a reply in the outsiders chat, cafe again');
  });

  test('whole words and prefixes, case and accents folded, newest first, every chat of the caller', async () => {
    assert.deepEqual(await texts(a1, { query: 'cafe' }), [
      'the cafeteria is closed today',
      'hello there, CAFÉ au lait please',
      'Rendez-vous au Café de Flore at noon',
    ]);
    assert.deepEqual(await texts(a1, { query: 'CAFÉ' }), await texts(a1, { query: 'cafe' }));
    assert.deepEqual(await texts(a1, { query: 'café au' }), ['hello there, CAFÉ au lait please', 'Rendez-vous au Café de Flore at noon']);
    assert.deepEqual(await texts(a1, { query: 'hel' }), ['Hello HELLO hello world', 'hello there, CAFÉ au lait please']);
    assert.deepEqual(await texts(a1, { query: 'world hello' }), ['Hello HELLO hello world'], 'every word, in any order');
    assert.deepEqual(await texts(a1, { query: 'ello' }), [], 'the middle of a word is no prefix');
    assert.deepEqual(await texts(a1, { query: 'cafeterias' }), [], 'longer than the word');
    assert.deepEqual(await texts(a1, { query: 'FLORE noon' }), ['Rendez-vous au Café de Flore at noon']);
    // c is in the group and the outsiders' chat, not the direct chat.
    assert.deepEqual(await texts(c1, { query: 'cafe' }), [
      'a reply in the outsiders chat, cafe again',
      'secret cafe plans for outsiders',
      'the cafeteria is closed today',
    ]);
  });

  test('chatId narrows to one chat; an outsider\'s chatId is NOT_FOUND, exactly as a missing chat', async () => {
    assert.deepEqual(await texts(a1, { query: 'cafe', chatId: direct.id }), [
      'hello there, CAFÉ au lait please',
      'Rendez-vous au Café de Flore at noon',
    ]);
    assert.deepEqual(await texts(b1, { query: 'hello', chatId: group.id }), ['Hello HELLO hello world']);
    const foreign = await a1.ack('message:search', { query: 'cafe', chatId: other.id });
    const missing = await a1.ack('message:search', { query: 'cafe', chatId: randomId() });
    assertErr(foreign, 'NOT_FOUND');
    assertErr(missing, 'NOT_FOUND');
    assert.deepEqual(foreign, missing, 'the same answer for a foreign chat and a missing one');
    assertErr(await o1.ack('message:search', { query: 'cafe', chatId: direct.id }), 'NOT_FOUND');
    assertErr(await a1.ack('message:search', { query: 'cafe', chatId: 'not-an-id' }), 'NOT_FOUND');
    assertErr(await a1.ack('message:search', { query: 'cafe', chatId: { $ne: null } }), 'VALIDATION_ERROR');
  });

  test('search results never leak a chat the caller left', async () => {
    const [x, y] = await newUsers(srv, 2);
    const [x1, y1] = await Promise.all([x.connect(), y.connect()]);
    const g = (await x1.ok('chat:create', { type: 'group', name: 'Leaving', participantIds: [y.id] })).chat;
    const keep = (await x1.ok('chat:create', { type: 'direct', participantId: y.id })).chat;
    await x1.ok('message:new', { chatId: g.id, text: 'zebra before leaving' });
    await x1.ok('message:new', { chatId: keep.id, text: 'zebra in the direct chat' });
    assert.deepEqual(await texts(y1, { query: 'zebra' }), ['zebra in the direct chat', 'zebra before leaving']);
    const cursor = (await search(y1, { query: 'zebra', limit: 1 })).nextCursor;
    assert.ok(cursor, 'a next page');
    await y1.ok('chat:leave', { chatId: g.id });
    await x1.ok('message:new', { chatId: g.id, text: 'zebra after y left' });
    assert.deepEqual(await texts(y1, { query: 'zebra' }), ['zebra in the direct chat'], 'old and new messages of the chat are gone');
    assert.deepEqual(await texts(y1, { query: 'zebra', before: cursor }), [], 'a cursor from before leaving shows nothing of the chat either');
    assertErr(await y1.ack('message:search', { query: 'zebra', chatId: g.id }), 'NOT_FOUND');
    // Removed by an admin: the same.
    const [z] = await newUsers(srv, 1);
    const z1 = await z.connect();
    await x1.ok('chat:participants:add', { chatId: g.id, userIds: [z.id] });
    assert.deepEqual(await texts(z1, { query: 'zebra' }), ['zebra after y left', 'zebra before leaving'], 'a new member searches the history');
    await x1.ok('chat:participants:remove', { chatId: g.id, userId: z.id });
    assert.deepEqual(await texts(z1, { query: 'zebra' }), []);
    for (const s of [x1, y1, z1]) s.close();
  });

  test('queries are plain text: FTS5 and regex syntax are no operators, never an engine error, never an injection', async () => {
    const [x] = await newUsers(srv, 1);
    const x1 = await x.connect();
    const chat = (await x1.ok('chat:create', { type: 'group', name: 'Syntax', participantIds: [a.id] })).chat;
    const say = (text) => x1.ok('message:new', { chatId: chat.id, text });
    await say('she said "NEAR" the door');
    await say('rock-paper-scissors: tokens:secret');
    await say('and or not');
    await say('a*b (c) [d] {e} ^f$ 100% back\\slash');
    const one = async (query) => texts(x1, { query, chatId: chat.id });
    assert.deepEqual(await one('"near"'), ['she said "NEAR" the door']);
    assert.deepEqual(await one('NEAR(door said)'), ['she said "NEAR" the door']);
    assert.deepEqual(await one('"she said'), ['she said "NEAR" the door']);
    assert.deepEqual(await one('near*'), ['she said "NEAR" the door']);
    assert.deepEqual(await one('rock -paper'), ['rock-paper-scissors: tokens:secret'], '- is no NOT');
    assert.deepEqual(await one('tokens:secret'), ['rock-paper-scissors: tokens:secret'], ': is no column filter');
    assert.deepEqual(await one('tokens:'), ['rock-paper-scissors: tokens:secret']);
    assert.deepEqual(await one('^door'), ['she said "NEAR" the door']);
    assert.deepEqual(await one('OR'), ['and or not'], 'OR is a word');
    assert.deepEqual(await one('door OR rock'), [], 'and not an operator');
    assert.deepEqual(await one('NOT door'), [], 'neither is NOT');
    assert.deepEqual(await one('a*b'), ['a*b (c) [d] {e} ^f$ 100% back\\slash']);
    assert.deepEqual(await one('100%'), ['a*b (c) [d] {e} ^f$ 100% back\\slash']);
    assert.deepEqual(await one('back\\slash'), ['a*b (c) [d] {e} ^f$ 100% back\\slash']);
    for (const query of ['"', '""', '*', '-', ':', '^', '$', '.*', '(', ')', '\\', '%', '_', '"*"', 'NEAR(', '{"$ne":null}',
      "'; DROP TABLE messages; --", "' OR '1'='1", '\u0000', '👍']) {
      const res = await search(x1, { query });
      if (!/[a-z0-9]/i.test(query)) assert.deepEqual(res.messages, [], `query ${JSON.stringify(query)} has no words: nothing`);
      assert.equal(res.nextCursor, null);
    }
    // Every message is still there and still found.
    assert.equal((await search(x1, { query: 'door' })).messages.length, 1);
    assert.equal((await x1.ok('message:list', { chatId: chat.id })).messages.length, 4);
    x1.close();
  });

  test('bad queries, limits and cursors are VALIDATION_ERROR', async () => {
    for (const payload of [
      {}, { query: '' }, { query: '   ' }, { query: 'x'.repeat(201) }, { query: 'a b c d e f g h i j k' },
      { query: 5 }, { query: null }, { query: ['cafe'] }, { query: { $regex: '.*' } },
      { query: 'cafe', limit: 0 }, { query: 'cafe', limit: 51 }, { query: 'cafe', limit: 1.5 }, { query: 'cafe', limit: '5' },
      { query: 'cafe', before: '' }, { query: 'cafe', before: 'nope' }, { query: 'cafe', before: 12 },
      { query: 'cafe', before: Buffer.from('1:1:xyz').toString('base64url') },
      { query: 'cafe', before: Buffer.from(`0:0:${'a'.repeat(24)}`).toString('base64url') },
      { query: 'cafe', extra: true },
    ]) {
      const res = await a1.ack('message:search', payload);
      assertErr(res, 'VALIDATION_ERROR', JSON.stringify(payload));
    }
    await search(a1, { query: 'x'.repeat(200) });
    await search(a1, { query: 'a b c d e f g h i j' });
    await search(a1, { query: 'cafe', limit: 50 });
    await search(a1, { query: 'cafe', chatId: null, before: null, limit: null });
  });

  test('cursor paging: every result once, newest first, also while new messages arrive', async () => {
    const [x, y] = await newUsers(srv, 2);
    const [x1, y1] = await Promise.all([x.connect(), y.connect()]);
    const chats = [
      (await x1.ok('chat:create', { type: 'direct', participantId: y.id })).chat,
      (await x1.ok('chat:create', { type: 'group', name: 'P1', participantIds: [y.id] })).chat,
      (await y1.ok('chat:create', { type: 'group', name: 'P2', participantIds: [x.id] })).chat,
    ];
    const want = [];
    for (let i = 0; i < 23; i++) {
      const text = `page item ${i}`;
      await (i % 2 ? x1 : y1).ok('message:new', { chatId: chats[i % 3].id, text });
      await x1.ok('message:new', { chatId: chats[(i + 1) % 3].id, text: `noise ${i}` });
      want.unshift(text);
    }
    const lates = []; // sent during the walks below, newest first
    for (const limit of [1, 5, 7, 23, 50]) {
      const expected = [...lates, ...want];
      const got = [];
      let before;
      for (let page = 0; page < 40; page++) {
        const res = await search(y1, { query: 'page item', limit, ...(before ? { before } : {}) });
        assert.ok(res.messages.length <= limit);
        got.push(...res.messages.map((m) => m.text));
        if (page === 0) {
          // Sent after the first page: newer than all of it, so no later page has it.
          const text = `page item late ${limit}`;
          await x1.ok('message:new', { chatId: chats[limit % 3].id, text });
          lates.unshift(text);
        }
        if (!res.nextCursor) break;
        assert.equal(res.messages.length, limit, 'only the last page is short');
        before = res.nextCursor;
      }
      assert.deepEqual(got, expected, `pages of ${limit}: every result once, newest first`);
    }
    // In one chat: descending seq.
    const one = await search(y1, { query: 'page', chatId: chats[1].id, limit: 50 });
    const seqs = one.messages.map((m) => m.seq);
    assert.deepEqual(seqs, [...seqs].sort((p, q) => q - p), 'descending seq');
    assert.ok(one.messages.every((m) => m.chatId === chats[1].id));
    // The cursor is opaque and strict: a tampered one is refused.
    const cur = (await search(y1, { query: 'page', limit: 2 })).nextCursor;
    const raw = Buffer.from(cur, 'base64url').toString();
    assert.ok(!raw.includes('page'), 'the cursor carries no query');
    for (const bad of [`${cur}A`, cur.slice(1), Buffer.from(`${raw}:1`).toString('base64url'), Buffer.from(`+${raw}`).toString('base64url')]) {
      assertErr(await y1.ack('message:search', { query: 'page', before: bad }), 'VALIDATION_ERROR', `cursor ${bad}`);
    }
    x1.close(); y1.close();
  });

  test('deleted messages are gone; edits are reflected at once (old words no longer match, new ones do)', async () => {
    const [x, y] = await newUsers(srv, 2);
    const [x1, y1] = await Promise.all([x.connect(), y.connect()]);
    const chat = (await x1.ok('chat:create', { type: 'direct', participantId: y.id })).chat;
    const m1 = (await x1.ok('message:new', { chatId: chat.id, text: 'pizza tonight at Luigi' })).message;
    const m2 = (await x1.ok('message:new', { chatId: chat.id, text: 'pizza or pasta' })).message;
    assert.deepEqual(await texts(y1, { query: 'pizza' }), ['pizza or pasta', 'pizza tonight at Luigi']);
    await x1.ok('message:edit', { messageId: m1.id, text: 'sushi tonight at Ōkura' });
    assert.deepEqual(await texts(y1, { query: 'pizza' }), ['pizza or pasta'], 'the old words no longer match');
    assert.deepEqual(await texts(y1, { query: 'luigi' }), []);
    const edited = (await search(y1, { query: 'sushi okura' })).messages;
    assert.deepEqual(edited.map((m) => m.id), [m1.id], 'the new words do (ō matches o)');
    assert.ok(edited[0].editedAt, 'the result is the edited message');
    assert.deepEqual(await texts(y1, { query: 'tonight' }), ['sushi tonight at Ōkura'], 'an edit keeps the message\'s place');
    await x1.ok('message:delete', { messageId: m2.id });
    assert.deepEqual(await texts(y1, { query: 'pizza' }), [], 'deleted: gone');
    assert.deepEqual(await texts(y1, { query: 'pasta' }), []);
    await x1.ok('message:delete', { messageId: m1.id });
    assert.deepEqual(await texts(y1, { query: 'sushi' }), []);
    assert.deepEqual(await texts(x1, { query: 'tonight', chatId: chat.id }), []);
    x1.close(); y1.close();
  });

  test('accents, case and scripts: café matches cafe, Straße matches STRASSE, ΟΔΥΣΣΕΥΣ matches οδυσσευς', async () => {
    const [x] = await newUsers(srv, 1);
    const x1 = await x.connect();
    const chat = (await x1.ok('chat:create', { type: 'group', name: 'Scripts', participantIds: [b.id] })).chat;
    for (const text of ['Un café crème', 'Hauptstraße 5', 'ΟΔΥΣΣΕΥΣ', 'naïve Zoë', 'ｆｕｌｌｗｉｄｔｈ', '我们明天见']) {
      await x1.ok('message:new', { chatId: chat.id, text });
    }
    const one = async (query) => texts(x1, { query, chatId: chat.id });
    assert.deepEqual(await one('cafe'), ['Un café crème']);
    assert.deepEqual(await one('CAFÉ CREME'), ['Un café crème']);
    assert.deepEqual(await one('cafe\u0301'), ['Un café crème'], 'a decomposed é');
    assert.deepEqual(await one('HAUPTSTRASSE'), ['Hauptstraße 5']);
    assert.deepEqual(await one('οδυσσευς'), ['ΟΔΥΣΣΕΥΣ']);
    assert.deepEqual(await one('naive zoe'), ['naïve Zoë']);
    assert.deepEqual(await one('fullwidth'), ['ｆｕｌｌｗｉｄｔｈ']);
    assert.deepEqual(await one('我们'), ['我们明天见']);
    x1.close();
  });
});
