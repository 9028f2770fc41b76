// One socket's sends are committed in send order (PROTOCOL.md: seq).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer } from '../lib/server.js';
import { newUsers, withTimeout } from '../lib/fixtures.js';
import { unlimitedEvents } from '../lib/limits.js';

let srv;
// 201 sends in a burst: beyond the default messages bucket (200), and not what is tested.
before(async () => { srv = await startServer({ env: unlimitedEvents }); });
after(async () => { await stopServer(srv); });

const N = 200;

for (const [senderTransport, receiverTransport] of [['websocket', 'websocket'], ['polling', 'polling'], ['websocket', 'polling']]) {
  test(`${N} unawaited sends (${senderTransport} sender, ${receiverTransport} receiver): consecutive seq in send order, each delivered once, in order`, { timeout: 60_000 }, async () => {
    const [a, b] = await newUsers(srv, 2);
    const ca = await a.connect({ transports: [senderTransport] });
    const cb = await b.connect({ transports: [receiverTransport] });
    const chat = (await ca.ok('chat:create', { type: 'direct', participantId: b.id })).chat;
    const warm = cb.next('message:new', (p) => p?.message?.text === 'warm-up');
    await ca.ok('message:new', { chatId: chat.id, text: 'warm-up' }); // seq 1
    await warm;

    const received = [];
    const allIn = new Promise((resolve) => {
      cb.socket.on('message:new', (p) => {
        if (p?.message?.chatId !== chat.id) return;
        received.push(p.message);
        if (received.length === N) resolve();
      });
    });

    const acks = [];
    for (let i = 0; i < N; i++) acks.push(ca.ack('message:new', { chatId: chat.id, text: `o${i}` }, 30_000));
    const results = await Promise.all(acks);
    results.forEach((r, i) => assert.equal(r.success, true, `send ${i} failed: ${JSON.stringify(r)}`));
    const seqs = results.map((r) => r.message.seq);
    assert.deepEqual(seqs, Array.from({ length: N }, (_, i) => i + 2), 'acks carry consecutive seq in send order');
    results.forEach((r, i) => assert.equal(r.message.text, `o${i}`));

    await withTimeout(allIn, 20_000, () => `receiver got ${received.length}/${N}`);
    // A later message from the same socket must arrive after every earlier one: any
    // duplicate would have shown up by then.
    const fin = cb.next('message:new', (p) => p?.message?.text === 'final');
    await ca.ok('message:new', { chatId: chat.id, text: 'final' });
    await fin;
    const got = received.filter((m) => m.text !== 'final');
    assert.equal(got.length, N, 'no duplicates');
    assert.deepEqual(got.map((m) => m.seq), seqs, 'received each exactly once, in seq order');
    assert.deepEqual(got.map((m) => m.text), results.map((r) => r.message.text));
    assert.deepEqual(ca.duplicateAcks(), [], 'every ack arrived exactly once');
    const list = await cb.ok('message:list', { chatId: chat.id, after: 1, limit: 100 });
    assert.deepEqual(list.messages.map((m) => m.text), Array.from({ length: 100 }, (_, i) => `o${i}`));
  });
}
