// Socket handshake authentication (PROTOCOL.md "Transport", "Auth").
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, stopServer, TEST_JWT_SECRET } from '../lib/server.js';
import { connect, connectError, short } from '../lib/client.js';
import { keyPair, nowSec, randomId, signAsym, signHS256, signNone, b64url } from '../lib/jwt.js';
import { newUser, randomHandle, assertUser } from '../lib/fixtures.js';

function assertUnauthorized(err, what) {
  assert.equal(err.message, 'UNAUTHORIZED', `${what}: err.message should be "UNAUTHORIZED", got ${short(err.message)}`);
  assert.equal(err.data?.code, 'UNAUTHORIZED', `${what}: err.data.code should be "UNAUTHORIZED", got ${short(err.data)}`);
}

async function me(srv, token, opts) {
  const c = await connect(srv, token, opts);
  const res = await c.ok('user:me', {});
  c.close();
  return res.user;
}

describe('built-in tokens (JWT_SECRET)', () => {
  let srv;
  let alice;
  before(async () => {
    srv = await startServer();
    alice = await newUser(srv);
  });
  after(async () => { await stopServer(srv); });

  for (const transports of [['websocket'], ['polling']]) {
    test(`token in auth.token (${transports})`, async () => {
      assert.equal((await me(srv, alice.token, { transports })).id, alice.id);
    });
    test(`token in an Authorization: Bearer header (${transports})`, async () => {
      const u = await me(srv, null, { transports, extraHeaders: { Authorization: `Bearer ${alice.token}` } });
      assert.equal(u.id, alice.id);
    });
    test(`token in the ?token= query parameter (${transports})`, async () => {
      assert.equal((await me(srv, null, { transports, query: { token: alice.token } })).id, alice.id);
    });
  }

  test('bad tokens are refused with connect_error UNAUTHORIZED', async () => {
    const sub = alice.id;
    const cases = {
      'missing token': { auth: {} },
      'no auth at all': { auth: undefined },
      'empty token': { auth: { token: '' } },
      'token not a string': { auth: { token: 12345 } },
      'token an object': { auth: { token: { $ne: null } } },
      'not a JWT': { auth: { token: 'not-a-jwt' } },
      'two segments': { auth: { token: 'abc.def' } },
      'garbage segments': { auth: { token: 'a.b.c' } },
      'wrong secret': { auth: { token: signHS256({ sub }, 'some-other-secret-entirely') } },
      'tampered payload': {
        auth: {
          token: (() => {
            const [h, , s] = signHS256({ sub }, TEST_JWT_SECRET).split('.');
            return `${h}.${b64url({ sub: randomId(), exp: nowSec() + 3600 })}.${s}`;
          })(),
        },
      },
      expired: { auth: { token: signHS256({ sub, iat: nowSec() - 7200, exp: nowSec() - 3600 }, TEST_JWT_SECRET) } },
      'alg none': { auth: { token: signNone({ sub }) } },
      'alg none with a signature': { auth: { token: `${signNone({ sub })}${'A'.repeat(43)}` } },
      'alg HS512 header on an HS256 signature': { auth: { token: signHS256({ sub }, TEST_JWT_SECRET, { alg: 'HS512' }) } },
      'no sub claim': { auth: { token: signHS256({ name: 'x' }, TEST_JWT_SECRET) } },
      'bearer header with a bad token': { auth: undefined, extraHeaders: { Authorization: 'Bearer nope.nope.nope' } },
      'query with an expired token': {
        auth: undefined,
        query: { token: signHS256({ sub, exp: nowSec() - 3600 }, TEST_JWT_SECRET) },
      },
    };
    for (const [what, opts] of Object.entries(cases)) {
      const err = await connectError(srv, null, opts);
      assertUnauthorized(err, what);
    }
  });

  test('a bare auth.userId is refused by default', async () => {
    assertUnauthorized(await connectError(srv, null, { auth: { userId: alice.id } }), 'auth.userId');
  });

  test('an HS256 token signed with JWT_SECRET for an unknown sub creates the user from its claims', async () => {
    const sub = randomId();
    const handle = randomHandle('ext');
    const token = signHS256({ sub, name: 'External Person', preferred_username: handle, picture: 'https://img.example/p.png' }, TEST_JWT_SECRET);
    const u = await me(srv, token);
    assertUser(u, 'user:me');
    assert.deepEqual(
      { id: u.id, handle: u.handle, name: u.name, image: u.image },
      { id: sub, handle, name: 'External Person', image: 'https://img.example/p.png' },
    );
    // Second connect: same user, not a second one.
    assert.equal((await me(srv, token)).id, sub);
  });
});

describe('AUTH_ALLOW_USER_ID=true', () => {
  let srv;
  let alice;
  before(async () => {
    srv = await startServer({ env: { AUTH_ALLOW_USER_ID: 'true' } });
    alice = await newUser(srv);
  });
  after(async () => { await stopServer(srv); });

  test('auth.userId of an existing user is accepted', async () => {
    const u = await me(srv, null, { auth: { userId: alice.id } });
    assert.equal(u.id, alice.id);
    assert.equal(u.handle, alice.handle);
  });
  test('auth.userId of an unknown user is refused', async () => {
    assertUnauthorized(await connectError(srv, null, { auth: { userId: randomId() } }), 'unknown userId');
  });
  test('tokens still work', async () => {
    assert.equal((await me(srv, alice.token)).id, alice.id);
  });
});

for (const alg of ['RS256', 'ES256', 'EdDSA']) {
  describe(`JWT_PUBLIC_KEY with ${alg}`, () => {
    let srv;
    let key;
    let otherKey;
    before(async () => {
      key = keyPair(alg);
      otherKey = keyPair(alg);
      srv = await startServer({ env: { JWT_PUBLIC_KEY: key.publicPem } });
    });
    after(async () => { await stopServer(srv); });

    test('creates the user on first connect from sub/name/picture/preferred_username', async () => {
      const sub = randomId();
      const handle = randomHandle(alg.toLowerCase());
      const token = signAsym({ sub, name: `${alg} Person`, preferred_username: handle, picture: `https://img.example/${alg}.png` }, key);
      const u = await me(srv, token);
      assertUser(u, 'user:me');
      assert.deepEqual(
        { id: u.id, handle: u.handle, name: u.name, image: u.image },
        { id: sub, handle, name: `${alg} Person`, image: `https://img.example/${alg}.png` },
      );
      assert.equal((await me(srv, token)).id, sub, 'the second connect finds the same user');
    });

    test('the handle claim is used when preferred_username is absent', async () => {
      const sub = randomId();
      const handle = randomHandle('h');
      const u = await me(srv, signAsym({ sub, name: 'Handle Claim', handle }, key));
      assert.equal(u.id, sub);
      assert.equal(u.handle, handle);
      assert.equal(u.name, 'Handle Claim');
      assert.equal(u.image, null);
    });

    test('the created user is visible to others (user:get)', async () => {
      const sub = randomId();
      const handle = randomHandle('vis');
      await me(srv, signAsym({ sub, name: 'Visible', preferred_username: handle }, key));
      const bob = await newUser(srv);
      const c = await bob.connect();
      const res = await c.ok('user:get', { userId: sub });
      assert.equal(res.user.handle, handle);
      c.close();
    });

    test('HS256 tokens signed with JWT_SECRET still work', async () => {
      const alice = await newUser(srv);
      assert.equal((await me(srv, alice.token)).id, alice.id);
    });

    test('refused: another key, expired, alg none, and HS256 signed with the public key PEM (algorithm confusion)', async () => {
      const sub = randomId();
      const cases = {
        'signed by another key': signAsym({ sub }, otherKey),
        expired: signAsym({ sub, iat: nowSec() - 7200, exp: nowSec() - 3600 }, key),
        'alg none': signNone({ sub }),
        'HS256 with the public PEM as HMAC secret': signHS256({ sub }, key.publicPem),
        'HS256 with the trimmed public PEM as HMAC secret': signHS256({ sub }, key.publicPem.trim()),
        'signature stripped': signAsym({ sub }, key).replace(/\.[^.]*$/, '.'),
      };
      if (alg !== 'RS256') {
        const rsa = keyPair('RS256');
        cases['RS256 token from an unconfigured key'] = signAsym({ sub }, rsa);
      } else {
        cases['ES256 token from an unconfigured key'] = signAsym({ sub }, keyPair('ES256'));
      }
      for (const [what, token] of Object.entries(cases)) {
        assertUnauthorized(await connectError(srv, token), what);
      }
      // None of the refused tokens created the user.
      const bob = await newUser(srv);
      const c = await bob.connect();
      const res = await c.ack('user:get', { userId: sub });
      assert.equal(res.success, false, `refused tokens must not create users: ${short(res)}`);
      assert.equal(res.code, 'NOT_FOUND');
      c.close();
    });
  });
}

describe('JWT_ISSUER and JWT_AUDIENCE', () => {
  let srv;
  let key;
  const iss = 'https://idp.example.test';
  const aud = 'parley-compat';
  before(async () => {
    key = keyPair('RS256');
    srv = await startServer({ env: { JWT_PUBLIC_KEY: key.publicPem, JWT_ISSUER: iss, JWT_AUDIENCE: aud } });
  });
  after(async () => { await stopServer(srv); });

  test('matching iss and aud are accepted (aud as a string or an array)', async () => {
    const sub = randomId();
    assert.equal((await me(srv, signAsym({ sub, iss, aud, preferred_username: randomHandle('ia') }, key))).id, sub);
    const sub2 = randomId();
    assert.equal((await me(srv, signAsym({ sub: sub2, iss, aud: ['other', aud], preferred_username: randomHandle('ia') }, key))).id, sub2);
  });

  test('wrong or missing iss/aud are refused', async () => {
    const cases = {
      'wrong issuer': { iss: 'https://evil.example', aud },
      'wrong audience': { iss, aud: 'someone-else' },
      'missing issuer': { aud },
      'missing audience': { iss },
    };
    for (const [what, claims] of Object.entries(cases)) {
      assertUnauthorized(await connectError(srv, signAsym({ sub: randomId(), ...claims }, key)), what);
    }
  });
});

describe('CORS_ORIGINS', () => {
  let srv;
  let alice;
  const allowed = 'http://allowed.example';
  before(async () => {
    srv = await startServer({ env: { CORS_ORIGINS: allowed } });
    alice = await newUser(srv);
  });
  after(async () => { await stopServer(srv); });

  // socket.io-client's Node XHR refuses to set an Origin header, so origins are tested on the
  // websocket transport through the client and on the polling transport with raw requests.
  test('websocket handshake from an allowed Origin is accepted', async () => {
    const u = await me(srv, alice.token, { extraHeaders: { Origin: allowed } });
    assert.equal(u.id, alice.id);
  });

  test('websocket handshake from another Origin is refused', async () => {
    const err = await connectError(srv, alice.token, { extraHeaders: { Origin: 'http://evil.example' } });
    assert.ok(err instanceof Error);
  });

  function pollingHandshake(origin) {
    return new Promise((resolve, reject) => {
      const req = http.request(`${srv.url}/socket.io/?EIO=4&transport=polling&t=${Date.now()}`, {
        headers: { Origin: origin },
      }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => { body += d; });
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  test('polling handshake: allowed Origin gets 200 with Access-Control-Allow-Origin echoing it', async () => {
    const res = await pollingHandshake(allowed);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers['access-control-allow-origin'], allowed);
  });

  test('polling handshake from another Origin is refused', async () => {
    const res = await pollingHandshake('http://evil.example');
    assert.notEqual(res.status, 200, `handshake from a foreign origin must be refused, got 200 ${res.body}`);
    assert.notEqual(res.headers['access-control-allow-origin'], 'http://evil.example');
    assert.notEqual(res.headers['access-control-allow-origin'], '*');
  });
});
