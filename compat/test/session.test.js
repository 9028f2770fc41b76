// auth:refresh and auth:expired (PROTOCOL.md "Session").
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer, TEST_JWT_SECRET } from '../lib/server.js';
import { connect } from '../lib/client.js';
import { nowSec, signHS256 } from '../lib/jwt.js';
import { assertErr, assertIso, newUsers } from '../lib/fixtures.js';
import { login } from '../lib/http.js';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await stopServer(srv); });

const disconnected = (c) => new Promise((r) => {
  if (!c.socket.connected) r('already');
  c.socket.once('disconnect', r);
});

describe('session', () => {
  test('a socket whose token expires gets auth:expired, then is disconnected', { timeout: 20_000 }, async () => {
    const [a] = await newUsers(srv, 1);
    const token = signHS256({ sub: a.id, exp: nowSec() + 3 }, TEST_JWT_SECRET);
    const c = await connect(srv, token);
    const gone = disconnected(c);
    const t0 = Date.now();
    await c.next('auth:expired', undefined, 10_000);
    await gone;
    assert.ok(Date.now() - t0 < 8000);
  });

  test('auth:refresh with a fresh token for the same user extends the socket', { timeout: 20_000 }, async () => {
    const [a] = await newUsers(srv, 1);
    const exp = nowSec() + 3;
    const c = await connect(srv, signHS256({ sub: a.id, exp }, TEST_JWT_SECRET));
    const fresh = (await login(srv, a.handle, a.password)).token;
    const res = await c.ok('auth:refresh', { token: fresh });
    assertIso(res.expiresAt, 'expiresAt');
    assert.ok(Date.parse(res.expiresAt) > (exp + 60) * 1000, 'expiresAt follows the new token');
    // Bounded wait, unavoidable: the old token's expiry must pass without a disconnect.
    await new Promise((r) => setTimeout(r, 4500));
    assert.equal(c.socket.connected, true, 'still connected after the old token expired');
    assert.equal(c.received('auth:expired').length, 0);
    await c.ok('user:me', {});
  });

  test('auth:refresh refuses another user\'s token and bad tokens', async () => {
    const [a, b] = await newUsers(srv, 2);
    const c = await a.connect();
    assertErr(await c.ack('auth:refresh', { token: b.token }), 'UNAUTHORIZED', 'another user');
    assertErr(await c.ack('auth:refresh', { token: 'nope' }), 'UNAUTHORIZED', 'malformed');
    assertErr(await c.ack('auth:refresh', { token: signHS256({ sub: a.id, exp: nowSec() - 10 }, TEST_JWT_SECRET) }), 'UNAUTHORIZED', 'expired');
    assertErr(await c.ack('auth:refresh', { token: signHS256({ sub: a.id }, 'wrong-secret') }), 'UNAUTHORIZED', 'bad signature');
    assertErr(await c.ack('auth:refresh', {}), 'VALIDATION_ERROR', 'missing token');
    assert.equal((await c.ok('user:me', {})).user.id, a.id, 'the socket keeps working');
  });
});
