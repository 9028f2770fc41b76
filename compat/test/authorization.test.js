// An outsider probing ids of chats and messages they cannot see gets NOT_FOUND, exactly as
// for ids that do not exist, and nothing changes (PROTOCOL.md "Authorization never leaks
// existence").
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer } from '../lib/server.js';
import { assertErr, barrier, newUsers, randomId } from '../lib/fixtures.js';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await stopServer(srv); });

/** The ack with the probed id masked, so answers for different ids can be compared. */
function masked(res, id) {
  return JSON.parse(JSON.stringify(res).split(id).join('<id>'));
}

describe('outsider probes', () => {
  let a; let b; let o;
  let ca; let cb; let co;
  let group; let direct; let gm; let dm; let oChat; let oa;
  before(async () => {
    [a, b, o] = await newUsers(srv, 3);
    ca = await a.connect();
    cb = await b.connect();
    co = await o.connect();
    group = (await ca.ok('chat:create', { type: 'group', name: 'Secret group', participantIds: [b.id] })).chat;
    direct = (await ca.ok('chat:create', { type: 'direct', participantId: b.id })).chat;
    gm = (await ca.ok('message:new', { chatId: group.id, text: 'secret group text' })).message;
    dm = (await ca.ok('message:new', { chatId: direct.id, text: 'secret direct text' })).message;
    // o's own chat, with a third user, for replyTo probes; and o–a for barriers.
    const [x] = await newUsers(srv, 1);
    oChat = (await co.ok('chat:create', { type: 'direct', participantId: x.id })).chat;
    oa = (await co.ok('chat:create', { type: 'direct', participantId: a.id })).chat;
  });

  // Each probe: event, payload builder over (chatId, messageId).
  const probes = [
    ['chat:get', (c) => ({ chatId: c })],
    ['chat:update', (c) => ({ chatId: c, name: 'pwned' })],
    ['chat:participants:add', (c) => ({ chatId: c, userIds: [o.id] })],
    ['chat:participants:remove', (c) => ({ chatId: c, userId: b.id })],
    ['chat:admin:set', (c) => ({ chatId: c, userId: o.id, admin: true })],
    ['chat:leave', (c) => ({ chatId: c })],
    ['message:new', (c) => ({ chatId: c, text: 'intrusion' })],
    ['message:list', (c) => ({ chatId: c })],
    ['message:list', (c) => ({ chatId: c, after: 0 })],
    ['message:read', (c) => ({ chatId: c, seq: 1 })],
    ['message:edit', (_c, m) => ({ messageId: m, text: 'pwned' })],
    ['message:delete', (_c, m) => ({ messageId: m })],
    ['message:new (replyTo)', (_c, m) => ({ chatId: oChat.id, text: 'quoting', replyTo: m })],
  ];

  for (const kind of ['group', 'direct']) {
    for (const [name, build] of probes) {
      test(`${name} on a foreign ${kind} chat answers exactly as a nonexistent id`, async () => {
        const event = name.split(' ')[0];
        const chat = kind === 'group' ? group : direct;
        const msg = kind === 'group' ? gm : dm;
        const real = await co.ack(event, build(chat.id, msg.id));
        const fakeChat = randomId();
        const fakeMsg = randomId();
        const fake = await co.ack(event, build(fakeChat, fakeMsg));
        if (name.includes('replyTo')) {
          // The protocol allows NOT_FOUND or VALIDATION_ERROR for a bad replyTo; what matters
          // is that a foreign message and a nonexistent one are indistinguishable.
          assertErr(real, ['NOT_FOUND', 'VALIDATION_ERROR'], `${name} (foreign)`);
        } else {
          assertErr(real, 'NOT_FOUND', `${name} (foreign)`);
        }
        assertErr(fake, real.code, `${name} (nonexistent)`);
        const usedReal = name.startsWith('message:edit') || name.startsWith('message:delete') || name.includes('replyTo') ? msg.id : chat.id;
        const usedFake = usedReal === msg.id ? fakeMsg : fakeChat;
        assert.deepEqual(masked(real, usedReal), masked(fake, usedFake), 'foreign and nonexistent ids must get identical answers');
        assert.ok(!JSON.stringify(real).toLowerCase().includes('secret'), `the answer leaks content: ${JSON.stringify(real)}`);
      });
    }
  }

  test('sync with a foreign chat in cursors: same answer as a nonexistent chat, nothing leaked', async () => {
    const real = await co.ack('sync', { cursors: { [group.id]: 0, [direct.id]: 0 } });
    const fake = await co.ack('sync', { cursors: { [randomId()]: 0, [randomId()]: 0 } });
    const text = JSON.stringify(real);
    assert.ok(!text.includes(group.id) && !text.includes(direct.id), `sync leaks the foreign chats: ${text}`);
    assert.ok(!text.toLowerCase().includes('secret'), `sync leaks content: ${text}`);
    if (real.success) {
      // Ignoring unknown cursors is indistinguishable too: then both answers must be the same.
      assert.equal(fake.success, true, 'a foreign cursor and an unknown one must be treated alike');
      assert.deepEqual(real.chats.map((c) => c.id).sort(), fake.chats.map((c) => c.id).sort());
      assert.deepEqual(real.truncated, fake.truncated);
    } else {
      assertErr(real, 'NOT_FOUND');
      assertErr(fake, 'NOT_FOUND');
      assert.equal(real.error.replaceAll(group.id, '').replaceAll(direct.id, ''), fake.error.replace(/[0-9a-f]{24}/g, ''));
    }
  });

  test('nothing changed and nobody was told', async () => {
    const g = (await cb.ok('chat:get', { chatId: group.id })).chat;
    assert.equal(g.name, 'Secret group');
    assert.deepEqual(g.participants.map((p) => p.id).sort(), [a.id, b.id].sort());
    assert.deepEqual(g.admins, [a.id]);
    assert.equal(g.lastSeq, 1);
    const d = (await cb.ok('chat:get', { chatId: direct.id })).chat;
    assert.equal(d.lastSeq, 1);
    assert.deepEqual(d.participants.map((p) => p.id).sort(), [a.id, b.id].sort());
    const gl = (await cb.ok('message:list', { chatId: group.id })).messages;
    assert.deepEqual(gl.map((m) => [m.text, m.deleted, m.editedAt]), [['secret group text', false, null]]);
    const dl = (await cb.ok('message:list', { chatId: direct.id })).messages;
    assert.deepEqual(dl.map((m) => [m.text, m.deleted, m.editedAt]), [['secret direct text', false, null]]);
    const ol = (await co.ok('message:list', { chatId: oChat.id })).messages;
    assert.equal(ol.length, 0, 'the refused replyTo probe stored nothing');
    assert.equal(g.readSeq, 0);

    // The members heard nothing from the probes; o heard nothing of the chats.
    await barrier(ca, group.id, [cb]);
    for (const ev of ['chat:updated', 'chat:removed', 'message:updated', 'message:deleted', 'message:read']) {
      assert.equal(cb.received(ev).length, 0, `b received ${ev} from an outsider's probe`);
    }
    assert.equal(cb.received('message:new', (p) => p?.message?.text === 'intrusion').length, 0);
    await barrier(ca, oa.id, [co]);
    for (const ev of ['chat:new', 'chat:updated', 'message:read', 'message:updated', 'message:deleted']) {
      assert.equal(co.received(ev, (p) => [group.id, direct.id].includes(p?.chatId ?? p?.chat?.id ?? p?.message?.chatId)).length, 0, `o received ${ev}`);
    }
    assert.equal(co.received('message:new', (p) => [group.id, direct.id].includes(p?.message?.chatId)).length, 0);
    const list = (await co.ok('chat:list', {})).chats.map((c) => c.id);
    assert.ok(!list.includes(group.id) && !list.includes(direct.id));
  });
});
