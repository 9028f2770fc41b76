// HTTP: register, login, health, readiness, metrics, error bodies (PROTOCOL.md "HTTP").
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer, TEST_JWT_SECRET } from '../lib/server.js';
import { request, randomHandle, register } from '../lib/http.js';
import { decode, verifyHS256 } from '../lib/jwt.js';
import { connect } from '../lib/client.js';
import { assertUser, HEX24 } from '../lib/fixtures.js';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await stopServer(srv); });

function assertErrorBody(res, status, code) {
  assert.equal(res.status, status, `expected HTTP ${status}, got ${res.status} ${res.text}`);
  assert.ok(res.body && typeof res.body === 'object', `error body must be JSON: ${res.text}`);
  assert.equal(res.body.code, code, `expected code ${code}: ${res.text}`);
  assert.equal(typeof res.body.error, 'string', `error must be a string: ${res.text}`);
  assert.ok(res.body.error.length > 0);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
}

const reg = (body) => request(srv, 'POST', '/auth/register', body);

describe('POST /auth/register', () => {
  test('201 with {token, user}; token is HS256 with sub = user id, signed with JWT_SECRET', async () => {
    const handle = randomHandle('reg');
    const res = await reg({ handle, name: 'Reg User', password: 'password1' });
    assert.equal(res.status, 201, res.text);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const { token, user } = res.body;
    assertUser(user, 'user');
    assert.match(user.id, HEX24, 'ids are 24-hex ObjectId strings');
    assert.equal(user.handle, handle);
    assert.equal(user.name, 'Reg User');
    assert.equal(user.image, null);
    const { header, payload } = decode(token);
    assert.equal(header.alg, 'HS256');
    assert.equal(payload.sub, user.id);
    assert.ok(verifyHS256(token, TEST_JWT_SECRET), 'built-in tokens are signed with JWT_SECRET');
    // The token works at the socket handshake and names the same user.
    const c = await connect(srv, token);
    const me = await c.ok('user:me', {});
    assert.equal(me.user.id, user.id);
    assert.equal(me.user.handle, handle);
    c.close();
  });

  test('handle length 3 and 32 and characters a-z A-Z 0-9 _ . are accepted, stored lower case', async () => {
    const tag = randomHandle('').slice(1, 9); // 8 hex chars
    const three = `q${tag.slice(0, 2)}`; // 3 chars (fresh database per file: no clash)
    const cases = [
      three,
      `Ab_.9${tag}${'x'.repeat(32 - 5 - tag.length)}`, // 32 chars, mixed case
      `Mixed.Case_${tag}`,
    ];
    for (const handle of cases) {
      const res = await reg({ handle, name: 'N', password: 'password1' });
      assert.equal(res.status, 201, `${handle}: ${res.text}`);
      assert.equal(res.body.user.handle, handle.toLowerCase(), 'handle is stored in lower case');
    }
  });

  test('invalid handles are 400 VALIDATION_ERROR', async () => {
    const tag = randomHandle('').slice(1, 7);
    const bad = [
      'ab', // 2 chars
      `a${tag}${'b'.repeat(32 - tag.length)}`, // 33 chars
      `has-dash${tag}`,
      `has space${tag}`,
      `at@sign${tag}`,
      `caf\u00e9${tag}`,
      `slash/${tag}`,
      '',
    ];
    for (const handle of bad) {
      assertErrorBody(await reg({ handle, name: 'N', password: 'password1' }), 400, 'VALIDATION_ERROR');
    }
  });

  test('handles are unique regardless of case: 409 CONFLICT', async () => {
    const handle = randomHandle('Dup');
    assert.equal((await reg({ handle, name: 'A', password: 'password1' })).status, 201);
    assertErrorBody(await reg({ handle, name: 'B', password: 'password1' }), 409, 'CONFLICT');
    assertErrorBody(await reg({ handle: handle.toLowerCase(), name: 'B', password: 'password1' }), 409, 'CONFLICT');
    assertErrorBody(await reg({ handle: handle.toUpperCase(), name: 'B', password: 'password1' }), 409, 'CONFLICT');
  });

  test('password must be at least 8 characters', async () => {
    assertErrorBody(await reg({ handle: randomHandle('pw'), name: 'N', password: '1234567' }), 400, 'VALIDATION_ERROR');
    assertErrorBody(await reg({ handle: randomHandle('pw'), name: 'N', password: '' }), 400, 'VALIDATION_ERROR');
    assert.equal((await reg({ handle: randomHandle('pw'), name: 'N', password: '12345678' })).status, 201);
  });

  test('bad JSON, missing fields and wrong types are 400 VALIDATION_ERROR', async () => {
    const raw = (text) => request(srv, 'POST', '/auth/register', undefined, { raw: text });
    assertErrorBody(await raw('{"handle": "x'), 400, 'VALIDATION_ERROR');
    assertErrorBody(await raw('not json at all'), 400, 'VALIDATION_ERROR');
    assertErrorBody(await raw(''), 400, 'VALIDATION_ERROR');
    assertErrorBody(await raw('[]'), 400, 'VALIDATION_ERROR');
    assertErrorBody(await reg({ name: 'N', password: 'password1' }), 400, 'VALIDATION_ERROR');
    assertErrorBody(await reg({ handle: randomHandle('m'), name: 'N' }), 400, 'VALIDATION_ERROR');
    assertErrorBody(await reg({ handle: 12345, name: 'N', password: 'password1' }), 400, 'VALIDATION_ERROR');
    assertErrorBody(await reg({ handle: randomHandle('t'), name: 'N', password: 12345678 }), 400, 'VALIDATION_ERROR');
    assertErrorBody(await reg({ handle: { $ne: null }, name: 'N', password: 'password1' }), 400, 'VALIDATION_ERROR');
  });
});

describe('POST /auth/login', () => {
  test('200 {token, user} for the right password, handle compared in lower case', async () => {
    const r = await register(srv, { handle: randomHandle('Login') });
    for (const handle of [r.handle, r.handle.toLowerCase(), r.handle.toUpperCase()]) {
      const res = await request(srv, 'POST', '/auth/login', { handle, password: r.password });
      assert.equal(res.status, 200, `${handle}: ${res.text}`);
      assertUser(res.body.user, 'user');
      assert.equal(res.body.user.id, r.user.id);
      assert.equal(decode(res.body.token).payload.sub, r.user.id);
      assert.ok(verifyHS256(res.body.token, TEST_JWT_SECRET));
    }
    const res = await request(srv, 'POST', '/auth/login', { handle: r.handle, password: r.password });
    const c = await connect(srv, res.body.token);
    assert.equal((await c.ok('user:me', {})).user.id, r.user.id);
    c.close();
  });

  test('wrong handle and wrong password give the identical 401 answer', async () => {
    const r = await register(srv);
    const wrongPw = await request(srv, 'POST', '/auth/login', { handle: r.handle, password: `${r.password}x` });
    const wrongHandle = await request(srv, 'POST', '/auth/login', { handle: randomHandle('nobody'), password: r.password });
    assertErrorBody(wrongPw, 401, 'UNAUTHORIZED');
    assertErrorBody(wrongHandle, 401, 'UNAUTHORIZED');
    assert.deepEqual(wrongHandle.body, wrongPw.body, 'no difference between unknown handle and wrong password');
    assert.equal(wrongHandle.text, wrongPw.text);
  });

  test('bad JSON is 400 VALIDATION_ERROR', async () => {
    assertErrorBody(await request(srv, 'POST', '/auth/login', undefined, { raw: '{oops' }), 400, 'VALIDATION_ERROR');
  });
});

describe('health and metrics', () => {
  test('GET /healthz is 200', async () => {
    assert.equal((await request(srv, 'GET', '/healthz')).status, 200);
  });
  test('GET /readyz is 200 with a working store', async () => {
    assert.equal((await request(srv, 'GET', '/readyz')).status, 200);
  });
  test('GET /metrics is Prometheus text', async () => {
    const res = await request(srv, 'GET', '/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    assert.match(res.text, /^# (HELP|TYPE) /m);
  });
});
