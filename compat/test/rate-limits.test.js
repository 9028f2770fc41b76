// Event limits (README "Limits"): a token bucket per user and class of event — messages,
// friend requests, searches, everything else (unknown events included) — shared by the
// user's sockets on a node and kept across reconnects; a socket that keeps sending after
// RATE_LIMITED is told why (session:closed) and disconnected; a user's sockets on a node
// are capped (MAX_SOCKETS_PER_USER).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer } from '../lib/server.js';
import { newUsers, assertErr } from '../lib/fixtures.js';
import { connectError } from '../lib/client.js';

describe('event limits per user and class', () => {
  let srv;
  before(async () => {
    srv = await startServer({
      env: {
        // Buckets that refill slowly, so what a test spends stays spent while it runs.
        RATE_MESSAGES_BURST: 6, RATE_MESSAGES_PER_SEC: 0.05,
        RATE_FRIEND_REQUESTS_BURST: 2, RATE_FRIEND_REQUESTS_PER_SEC: 0.05,
        RATE_SEARCH_BURST: 3, RATE_SEARCH_PER_SEC: 0.05,
        RATE_LIMIT_BURST: 40, RATE_LIMIT_PER_SEC: 0.05,
        MAX_SOCKETS_PER_USER: 3,
      },
    });
  });
  after(async () => { await stopServer(srv); });

  test('messages: one bucket for all of a user\'s sockets, kept across reconnects; other classes and users unaffected', async () => {
    const [a, b] = await newUsers(srv, 2);
    const [a1, a2, b1] = [await a.connect(), await a.connect(), await b.connect()];
    const { chat } = await a1.ok('chat:create', { type: 'direct', participantId: b.id });
    for (let i = 0; i < 3; i++) await a1.ok('message:new', { chatId: chat.id, text: `a1 ${i}` });
    for (let i = 0; i < 3; i++) await a2.ok('message:new', { chatId: chat.id, text: `a2 ${i}` });
    const refused = await a2.ack('message:new', { chatId: chat.id, text: 'seventh' });
    assertErr(refused, 'RATE_LIMITED');
    assert.ok(refused.retryAfterMs > 1000, `retryAfterMs ${refused.retryAfterMs}`);
    assertErr(await a1.ack('message:edit', { messageId: 'ffffffffffffffffffffffff', text: 'x' }), 'RATE_LIMITED', 'message:edit is in the messages class');
    // Another class of the same user, and the other user, still pass.
    await a1.ok('chat:list', {});
    await b1.ok('message:new', { chatId: chat.id, text: 'b is not limited by a' });
    // A fresh socket does not bring a fresh bucket.
    a1.close(); a2.close();
    const a3 = await a.connect();
    assertErr(await a3.ack('message:new', { chatId: chat.id, text: 'after reconnecting' }), 'RATE_LIMITED');
    for (const c of [a3, b1]) c.close();
  });

  test('friend requests and searches have buckets of their own', async () => {
    const [a, ...others] = await newUsers(srv, 4);
    const a1 = await a.connect();
    await a1.ok('friend:request:send', { userId: others[0].id });
    await a1.ok('friend:request:send', { userId: others[1].id });
    assertErr(await a1.ack('friend:request:send', { userId: others[2].id }), 'RATE_LIMITED');
    for (let i = 0; i < 2; i++) await a1.ok('user:search', { query: 'u_' });
    await a1.ok('message:search', { query: 'hello' }); // one bucket for both searches
    assertErr(await a1.ack('user:search', { query: 'u_' }), 'RATE_LIMITED');
    assertErr(await a1.ack('message:search', { query: 'hello' }), 'RATE_LIMITED', 'message:search is in the search class');
    await a1.ok('friend:request:list', {}); // everything else
    a1.close();
  });

  test('unknown events count, and a socket that keeps sending after RATE_LIMITED is disconnected', async () => {
    const [a, b] = await newUsers(srv, 2);
    const a1 = await a.connect();
    const b1 = await b.connect();
    const answers = await Promise.all(Array.from({ length: 45 }, (_, i) => a1.ack(`no:such:event:${i}`, {})));
    const codes = answers.map((r) => r.code);
    assert.equal(codes.filter((c) => c === 'VALIDATION_ERROR').length, 40, `codes ${codes}`);
    assert.equal(codes.filter((c) => c === 'RATE_LIMITED').length, 5);

    // A flood that ignores retryAfterMs: 15,000 unknown events without waiting for acks.
    const closed = a1.next('session:closed', () => true, 10_000);
    const gone = new Promise((resolve) => a1.socket.once('disconnect', resolve));
    for (let i = 0; i < 15_000 && a1.socket.connected; i++) {
      a1.socket.emit('flood', {}, () => {});
      if (i % 500 === 499) await new Promise((r) => setImmediate(r));
    }
    const why = await closed;
    assert.equal(why.code, 'RATE_LIMITED');
    assert.equal(await gone, 'io server disconnect', 'a server disconnect: the client does not reconnect by itself');
    // Others are served meanwhile.
    await b1.ok('user:me', {});
    const m = await (await fetch(`${srv.url}/metrics`)).text();
    assert.match(m, /^parley_flood_disconnects_total [1-9]/m);
    b1.close();
  });

  test('MAX_SOCKETS_PER_USER caps a user\'s sockets, concurrent handshakes included', async () => {
    const [a] = await newUsers(srv, 1);
    const tries = await Promise.allSettled(Array.from({ length: 10 }, () => a.connect()));
    const connected = tries.filter((t) => t.status === 'fulfilled').map((t) => t.value);
    const refused = tries.filter((t) => t.status === 'rejected').map((t) => t.reason);
    assert.equal(connected.length, 3, `connected ${connected.length} of 10: ${refused.map((e) => e.message)}`);
    for (const err of refused) {
      assert.equal(err.message, 'RATE_LIMITED');
      assert.equal(err.data?.code, 'RATE_LIMITED');
    }
    const err = await connectError(srv, a.token);
    assert.equal(err.message, 'RATE_LIMITED');
    // A place that frees up can be taken again.
    connected[0].close();
    let again;
    for (let i = 0; i < 50 && !again; i++) {
      again = await a.connect().catch(() => null);
      if (!again) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(again, 'no new socket after one of the three closed');
    for (const c of [...connected.slice(1), again]) c.close();
  });
});
