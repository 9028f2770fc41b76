// Restart on the same SQLite file without JWT_SECRET: the generated secret is kept beside
// the database, so tokens, history and seq survive; acked writes survive SIGKILL.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mongoMode, startServer } from '../lib/server.js';
import { connect, connectError } from '../lib/client.js';
import { login } from '../lib/http.js';
import { newUsers } from '../lib/fixtures.js';

const skip = mongoMode ? 'the generated-secret file is SQLite-specific' : false;

describe('restart', { skip }, () => {
  const servers = [];
  after(async () => {
    for (const s of servers) { await s.stop(); }
    for (const s of servers) s.cleanup();
  });
  const start = async (opts) => { const s = await startServer({ jwtSecret: null, ...opts }); servers.push(s); return s; };

  test('SIGTERM exits 0; a new process on the same file keeps tokens, history and seq', { timeout: 60_000 }, async () => {
    const s1 = await start();
    const [a, b] = await newUsers(s1, 2);
    const ca = await a.connect();
    const cb = await b.connect();
    const chat = (await ca.ok('chat:create', { type: 'group', name: 'Persist', participantIds: [b.id] })).chat;
    for (let i = 1; i <= 5; i++) await ca.ok('message:new', { chatId: chat.id, text: `before restart ${i}`, clientId: `k${i}` });
    await cb.ok('message:new', { chatId: chat.id, text: 'reply', replyTo: (await ca.ok('message:list', { chatId: chat.id })).messages[0].id });
    const m2 = (await ca.ok('message:list', { chatId: chat.id })).messages[1];
    await ca.ok('message:edit', { messageId: m2.id, text: 'edited before restart' });
    await cb.ok('message:read', { chatId: chat.id, seq: 2 });
    const history = (await cb.ok('message:list', { chatId: chat.id })).messages;
    const chatBefore = (await cb.ok('chat:get', { chatId: chat.id })).chat;

    // SIGTERM with clients still connected: a graceful exit, code 0.
    const exit = await s1.stop({ closeClients: false });
    assert.deepEqual(exit, { code: 0, signal: null }, `exit on SIGTERM: ${JSON.stringify(exit)}; stderr:\n${s1.stderr()}`);
    const besides = readdirSync(s1.dataDir).filter((f) => !/^parley\.db(-wal|-shm|-journal)?$/.test(f));
    assert.ok(besides.length > 0, `the generated secret is kept beside the database file; the directory holds only ${readdirSync(s1.dataDir)}`);

    const s2 = await start({ dataDir: s1.dataDir });
    const ca2 = await connect(s2, a.token); // the old token
    const cb2 = await connect(s2, b.token);
    assert.equal((await ca2.ok('user:me', {})).user.id, a.id);
    const historyAfter = (await cb2.ok('message:list', { chatId: chat.id })).messages;
    assert.deepEqual(historyAfter, history, 'message:list history identical');
    const chatAfter = (await cb2.ok('chat:get', { chatId: chat.id })).chat;
    for (const k of ['id', 'type', 'name', 'admins', 'createdBy', 'createdAt', 'lastActivity', 'lastSeq', 'lastMessage', 'unreadCount', 'readSeq']) {
      assert.deepEqual(chatAfter[k], chatBefore[k], `chat.${k} survives the restart`);
    }
    assert.equal(chatAfter.readSeq, 2);
    assert.equal(chatAfter.unreadCount, 3);
    // idempotency keys survive too
    const again = (await ca2.ok('message:new', { chatId: chat.id, text: 'before restart 3', clientId: 'k3' })).message;
    assert.equal(again.id, history[2].id);
    const wait = cb2.next('message:new', (p) => p?.message?.text === 'after restart');
    const next = (await ca2.ok('message:new', { chatId: chat.id, text: 'after restart' })).message;
    assert.equal(next.seq, 7, 'seq continues');
    assert.equal((await wait).message.id, next.id);
    // Login still works and its token too.
    const lg = await login(s2, a.handle, a.password);
    const ca3 = await connect(s2, lg.token);
    assert.equal((await ca3.ok('user:me', {})).user.id, a.id);
    ca2.close(); cb2.close(); ca3.close();
    const exit2 = await s2.stop();
    assert.equal(exit2.code, 0);
  });

  test('the generated secret is random: another fresh database refuses the tokens', { timeout: 30_000 }, async () => {
    const s1 = await start();
    const [a] = await newUsers(s1, 1);
    const s3 = await start(); // fresh data dir, its own generated secret
    const err = await connectError(s3, a.token);
    assert.equal(err.message, 'UNAUTHORIZED');
    await s1.stop();
    await s3.stop();
  });

  test('acked messages survive SIGKILL', { timeout: 60_000 }, async () => {
    const s1 = await start();
    const [a, b] = await newUsers(s1, 2);
    const ca = await a.connect();
    const chat = (await ca.ok('chat:create', { type: 'direct', participantId: b.id })).chat;
    const acks = await Promise.all(Array.from({ length: 50 }, (_, i) => ca.ok('message:new', { chatId: chat.id, text: `k${i}` })));
    await ca.ok('message:read', { chatId: chat.id, seq: 50 });
    const exit = await s1.stop({ signal: 'SIGKILL', closeClients: false });
    assert.equal(exit.signal, 'SIGKILL');
    const s2 = await start({ dataDir: s1.dataDir });
    const cb = await connect(s2, b.token);
    const list = await cb.ok('message:list', { chatId: chat.id, limit: 100 });
    assert.deepEqual(list.messages.map((m) => m.seq), acks.map((r) => r.message.seq).sort((x, y) => x - y));
    assert.deepEqual(list.messages.map((m) => m.id).sort(), acks.map((r) => r.message.id).sort());
    const ca2 = await connect(s2, a.token);
    assert.equal((await ca2.ok('chat:get', { chatId: chat.id })).chat.readSeq, 50);
    await s2.stop();
  });
});
