// Input validation at the edge: operator objects, wrong types, unknown and missing fields,
// bad limits, oversize text, non-object payloads, unknown events, emits without acks.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer } from '../lib/server.js';
import { assertErr, newUsers } from '../lib/fixtures.js';
import { short } from '../lib/client.js';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await stopServer(srv); });

describe('validation', () => {
  let a; let b; let ca; let chat; let msg;
  before(async () => {
    [a, b] = await newUsers(srv, 2);
    ca = await a.connect();
    chat = (await ca.ok('chat:create', { type: 'group', name: 'V', participantIds: [b.id] })).chat;
    msg = (await ca.ok('message:new', { chatId: chat.id, text: 'the only message' })).message;
  });

  const cases = () => {
    const c = chat.id;
    const m = msg.id;
    return [
      // operator objects in place of ids and text
      ['message:new', { chatId: { $ne: null }, text: 'x' }, 'operator as chatId'],
      ['message:new', { chatId: c, text: { $ne: null } }, 'operator as text'],
      ['message:new', { chatId: c, text: 'x', replyTo: { $ne: null } }, 'operator as replyTo'],
      ['chat:get', { chatId: { $gt: '' } }, 'operator as chatId'],
      ['user:get', { userId: { $ne: null } }, 'operator as userId'],
      ['user:search', { query: { $regex: '.*' } }, 'operator as query'],
      ['message:edit', { messageId: { $ne: null }, text: 'x' }, 'operator as messageId'],
      ['message:delete', { messageId: { $exists: true } }, 'operator as messageId'],
      ['message:list', { chatId: c, after: { $gt: 0 } }, 'operator as after'],
      ['message:read', { chatId: c, seq: { $gt: 0 } }, 'operator as seq'],
      ['chat:create', { type: 'group', name: 'x', participantIds: { $in: [b.id] } }, 'operator as participantIds'],
      ['chat:create', { type: 'direct', participantId: { $ne: null } }, 'operator as participantId'],
      ['chat:update', { chatId: c, name: { $set: 'x' } }, 'operator as name'],
      // wrong types
      ['message:new', { chatId: c, text: 123 }, 'number for text'],
      ['message:new', { chatId: c, text: ['a'] }, 'array for text'],
      ['message:new', { chatId: 123, text: 'x' }, 'number for chatId'],
      ['message:new', { chatId: c, text: 'x', clientId: 5 }, 'number for clientId'],
      ['message:new', { chatId: c, text: true }, 'boolean for text'],
      ['message:list', { chatId: c, limit: '10' }, 'string for limit'],
      ['message:list', { chatId: c, before: '5' }, 'string for before'],
      ['message:read', { chatId: c, seq: '1' }, 'string for seq'],
      ['chat:list', { before: 123 }, 'number for cursor'],
      ['chat:list', { limit: 'all' }, 'string for limit'],
      ['chat:get', { chatId: ['x'] }, 'array for chatId'],
      ['user:get', { userId: 5 }, 'number for userId'],
      ['chat:create', { type: 'group', name: 5, participantIds: [b.id] }, 'number for name'],
      ['chat:create', { type: 'group', name: 'x', participantIds: b.id }, 'string for array'],
      ['chat:create', { type: 'group', name: 'x', participantIds: [5] }, 'number in id array'],
      ['chat:participants:add', { chatId: c, userIds: {} }, 'object for array'],
      ['chat:admin:set', { chatId: c, userId: b.id, admin: 'true' }, 'string for boolean'],
      ['message:edit', { messageId: m, text: 5 }, 'number for text'],
      ['message:delete', { messageId: [m] }, 'array for messageId'],
      ['user:update', { name: 5 }, 'number for name'],
      ['user:update', { image: 5 }, 'number for image'],
      ['sync', { cursors: 'x' }, 'string for cursors'],
      ['sync', { cursors: [] }, 'array for cursors'],
      ['sync', { cursors: { [c]: '3' } }, 'string for a cursor'],
      ['sync', { cursors: { [c]: { $gt: 0 } } }, 'operator as a cursor'],
      ['chat:create', { type: 'channel', name: 'x', participantIds: [b.id] }, 'unknown chat type'],
      // unknown fields
      ['message:new', { chatId: c, text: 'x', evil: 1 }, 'unknown field'],
      ['chat:get', { chatId: c, foo: 'bar' }, 'unknown field'],
      ['user:update', { name: 'x', admin: true }, 'unknown field'],
      ['user:update', { handle: 'newhandle' }, 'handle is not updatable'],
      ['message:list', { chatId: c, sort: { seq: -1 } }, 'unknown field'],
      // missing required fields
      ['message:new', { chatId: c }, 'missing text'],
      ['message:new', { text: 'x' }, 'missing chatId'],
      ['chat:get', {}, 'missing chatId'],
      ['user:get', {}, 'missing userId'],
      ['user:search', {}, 'missing query'],
      ['message:edit', { messageId: m }, 'missing text'],
      ['message:delete', {}, 'missing messageId'],
      ['message:read', { chatId: c }, 'missing seq'],
      ['message:list', {}, 'missing chatId'],
      ['chat:create', { participantId: b.id }, 'missing type'],
      ['chat:admin:set', { chatId: c, userId: b.id }, 'missing admin'],
      ['sync', {}, 'missing cursors'],
      // huge and negative limits
      ['message:list', { chatId: c, limit: 1e9 }, 'huge limit'],
      ['message:list', { chatId: c, limit: -1 }, 'negative limit'],
      ['chat:list', { limit: 1000 }, 'huge limit'],
      ['chat:list', { limit: -5 }, 'negative limit'],
      ['user:search', { query: 'a', limit: 1e6 }, 'huge limit'],
      ['user:search', { query: 'a', limit: -1 }, 'negative limit'],
      ['sync', { cursors: {}, limit: 100000 }, 'huge limit'],
      ['sync', { cursors: {}, limit: -1 }, 'negative limit'],
      // oversize text
      ['message:new', { chatId: c, text: 'x'.repeat(100_000) }, '100 kB text'],
      ['message:edit', { messageId: m, text: 'x'.repeat(100_000) }, '100 kB text'],
      // payload not an object
      ['message:new', 'hello', 'string payload'],
      ['message:new', 42, 'number payload'],
      ['message:new', null, 'null payload'],
      ['message:new', true, 'boolean payload'],
      ['message:new', [], 'empty array payload'],
      ['message:new', [{ chatId: c, text: 'x' }], 'array payload'],
      ['chat:get', 'x', 'string payload'],
      ['sync', 7, 'number payload'],
      // binary where text is expected
      ['message:new', { chatId: c, text: Buffer.from('binary') }, 'binary text'],
    ];
  };

  test('every malformed payload is VALIDATION_ERROR with issues, and nothing is written', async () => {
    const failures = [];
    for (const [event, payload, what] of cases()) {
      const res = await ca.ack(event, payload);
      try {
        assertErr(res, 'VALIDATION_ERROR', `${event} (${what}):`);
      } catch (err) {
        failures.push(`${event} ${what} ${short(payload, 120)} -> ${short(res, 200)}`);
      }
    }
    assert.deepEqual(failures, [], `not answered VALIDATION_ERROR:\n${failures.join('\n')}`);
    const list = await ca.ok('message:list', { chatId: chat.id });
    assert.deepEqual(list.messages.map((x) => [x.text, x.deleted, x.editedAt]), [['the only message', false, null]]);
    const got = (await ca.ok('chat:get', { chatId: chat.id })).chat;
    assert.equal(got.name, 'V');
    assert.deepEqual(got.admins, [a.id]);
    assert.equal(got.participants.length, 2);
    const me = (await ca.ok('user:me', {})).user;
    assert.equal(me.name, a.name);
    assert.equal(me.handle, a.handle);
    assert.equal((await ca.ok('chat:list', {})).chats.length, 1);
  });

  test('an unknown event with an ack does not crash anything', async () => {
    let calls = 0;
    let answer;
    ca.socket.emit('no:such:event', { x: 1 }, (res) => { calls++; answer = res; });
    ca.socket.emit('__proto__', {}, () => { calls++; });
    ca.socket.emit('constructor', {}, () => { calls++; });
    const me = await ca.ok('user:me', {});
    assert.equal(me.user.id, a.id);
    assert.ok(srv.alive, 'the server process is up');
    // An ack for an unknown event is optional; if one came, it must be a proper failure.
    if (answer !== undefined) {
      assert.equal(answer.success, false, short(answer));
      assert.equal(typeof answer.code, 'string');
    }
    assert.ok(calls <= 3);
  });

  test('emits without an ack function do not crash anything', async () => {
    ca.socket.emit('user:me', {});
    ca.socket.emit('message:new', { chatId: chat.id, text: 'fire and forget' });
    ca.socket.emit('message:new', 'garbage');
    ca.socket.emit('message:new');
    ca.socket.emit('chat:get', { chatId: { $ne: null } });
    ca.socket.emit('no:such:event');
    ca.socket.emit('sync', { cursors: {} });
    const me = await ca.ok('user:me', {});
    assert.equal(me.user.id, a.id);
    assert.ok(srv.alive, 'the server process is up');
  });

  test('an ack-only emit (no payload) is answered once, success or VALIDATION_ERROR', async () => {
    const res = await new Promise((resolve, reject) => {
      ca.socket.timeout(5000).emit('user:me', (err, r) => (err ? reject(err) : resolve(r)));
    });
    if (res.success !== true) assertErr(res, 'VALIDATION_ERROR');
  });

  test('every ack arrived exactly once', () => {
    assert.deepEqual(ca.duplicateAcks(), [], 'an ack id was answered more than once');
    assert.ok(ca.ackArgCounts.every((n) => n === 1), `acks must carry exactly one argument: ${ca.ackArgCounts}`);
  });

  test('a payload over the transport limit costs at most that socket; the server stays up', async () => {
    const cx = await a.connect();
    const outcome = await new Promise((resolve) => {
      cx.socket.on('disconnect', (reason) => resolve({ disconnected: reason }));
      cx.socket.timeout(10_000).emit('message:new', { chatId: chat.id, text: 'x'.repeat(3_000_000) }, (err, r) => resolve(err ? { timeout: true } : { ack: r }));
    });
    if (outcome.ack) assertErr(outcome.ack, 'VALIDATION_ERROR');
    else assert.ok(outcome.disconnected, `neither an ack nor a disconnect: ${short(outcome)}`);
    const me = await ca.ok('user:me', {});
    assert.equal(me.user.id, a.id);
    assert.ok(srv.alive);
    cx.close();
  });
});
