// Token edge cases (issue 8, item 8). Before: auth:refresh with a token that expired
// seconds ago answered success with an expiresAt in the past (the verifier's 5 s leeway
// applied to exp), and a string `exp` claim and a `crit` header were accepted. All three
// are refused wherever tokens are verified: at the handshake and by auth:refresh.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer, TEST_JWT_SECRET } from '../lib/server.js';
import { connect, connectError, short } from '../lib/client.js';
import { keyPair, nowSec, signAsym, signHS256 } from '../lib/jwt.js';
import { assertErr, newUser } from '../lib/fixtures.js';

function edgeTokens(sub, sign) {
  return {
    'expired 2 s ago (inside the old leeway)': sign({ sub, exp: nowSec() - 2 }),
    'expiring this very second': sign({ sub, exp: nowSec() }),
    'a string exp': sign({ sub, exp: String(nowSec() + 3600) }),
    'a string nbf': sign({ sub, nbf: String(nowSec() - 60) }),
    'a crit header naming exp': sign({ sub }, { crit: ['exp'] }),
    'a crit header naming an extension': sign({ sub }, { crit: ['http://example.com/ext'], 'http://example.com/ext': true }),
  };
}

describe('token edge cases (HS256, JWT_SECRET)', () => {
  let srv;
  let alice;
  const hs = (payload, header) => signHS256(payload, TEST_JWT_SECRET, header);
  before(async () => {
    srv = await startServer();
    alice = await newUser(srv);
  });
  after(async () => { await stopServer(srv); });

  test('refused at the handshake with connect_error UNAUTHORIZED', async () => {
    for (const [what, token] of Object.entries(edgeTokens(alice.id, hs))) {
      const err = await connectError(srv, token);
      assert.equal(err.message, 'UNAUTHORIZED', `${what}: ${short(err.message)}`);
      assert.equal(err.data?.code, 'UNAUTHORIZED', `${what}: ${short(err.data)}`);
    }
    // The same shapes done right are accepted: numeric dates, no crit, exp ahead.
    const c = await connect(srv, hs({ sub: alice.id, exp: nowSec() + 30, nbf: nowSec() - 60 }, { kid: 'k1' }));
    assert.equal((await c.ok('user:me', {})).user.id, alice.id);
    c.close();
  });

  test('refused by auth:refresh with UNAUTHORIZED; the socket keeps its session', async () => {
    const c = await alice.connect();
    for (const [what, token] of Object.entries(edgeTokens(alice.id, hs))) {
      assertErr(await c.ack('auth:refresh', { token }), 'UNAUTHORIZED', what);
    }
    const fresh = hs({ sub: alice.id, exp: nowSec() + 600 });
    const res = await c.ok('auth:refresh', { token: fresh });
    assert.ok(Date.parse(res.expiresAt) > Date.now(), `expiresAt ${res.expiresAt} is in the future`);
    assert.equal((await c.ok('user:me', {})).user.id, alice.id);
    c.close();
  });
});

describe('token edge cases (JWT_PUBLIC_KEY, ES256)', () => {
  let srv;
  let key;
  before(async () => {
    key = keyPair('ES256');
    srv = await startServer({ env: { JWT_PUBLIC_KEY: key.publicPem } });
  });
  after(async () => { await stopServer(srv); });

  test('an identity provider\'s tokens are held to the same rules', async () => {
    const sub = 'provider-user-1';
    for (const [what, token] of Object.entries(edgeTokens(sub, (p, h) => signAsym(p, key, h)))) {
      const err = await connectError(srv, token);
      assert.equal(err.message, 'UNAUTHORIZED', `${what}: ${short(err.message)}`);
    }
    const c = await connect(srv, signAsym({ sub, preferred_username: 'provider_one' }, key));
    assert.equal((await c.ok('user:me', {})).user.handle, 'provider_one');
    c.close();
  });
});
