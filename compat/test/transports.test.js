// Websocket-only, polling-only and default (polling upgraded to websocket) clients can all
// do everything.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer } from '../lib/server.js';
import { connect } from '../lib/client.js';
import { register } from '../lib/http.js';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await stopServer(srv); });

async function session(transports) {
  const r = await register(srv);
  const c = await connect(srv, r.token, transports ? { transports } : {});
  const me = await c.ok('user:me', {});
  assert.equal(me.user.id, r.user.id);
  return { id: r.user.id, c };
}

async function exchange(x, y) {
  const wait = y.c.next('chat:new');
  const chat = (await x.c.ok('chat:create', { type: 'direct', participantId: y.id })).chat;
  assert.equal((await wait).chat.id, chat.id);
  for (let i = 0; i < 20; i++) {
    const [from, to] = i % 2 ? [y, x] : [x, y];
    const text = `live ${i}`;
    const w = to.c.next('message:new', (p) => p?.message?.text === text);
    const { message } = await from.c.ok('message:new', { chatId: chat.id, text });
    assert.equal((await w).message.id, message.id);
  }
  const edited = (await x.c.ok('message:list', { chatId: chat.id, limit: 1 })).messages[0];
  const wu = x.c.next('message:updated');
  await y.c.ok('message:edit', { messageId: edited.id, text: 'edited live' });
  assert.equal((await wu).message.text, 'edited live');
  const list = await x.c.ok('message:list', { chatId: chat.id });
  assert.equal(list.messages.length, 20);
}

test('websocket-only client and polling-only client talk live', async () => {
  const ws = await session(['websocket']);
  const poll = await session(['polling']);
  assert.equal(ws.c.socket.io.engine.transport.name, 'websocket');
  assert.equal(poll.c.socket.io.engine.transport.name, 'polling');
  await exchange(ws, poll);
});

test('two polling-only clients talk live', async () => {
  await exchange(await session(['polling']), await session(['polling']));
});

test('default client (polling, then upgrade to websocket) keeps working across the upgrade', async () => {
  const r = await register(srv);
  const c = await connect(srv, r.token, { transports: ['polling', 'websocket'] });
  const engine = c.socket.io.engine;
  if (engine.transport.name !== 'websocket') {
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no upgrade to websocket within 10 s')), 10_000);
      engine.once('upgrade', () => { clearTimeout(t); resolve(); });
    });
  }
  assert.equal(engine.transport.name, 'websocket');
  const other = await session(['polling']);
  await exchange({ id: r.user.id, c }, other);
});
