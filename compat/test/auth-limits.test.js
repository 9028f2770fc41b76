// Login and registration limits (issue 8, item 5). Before: ten wrong passwords for someone
// else's handle locked its owner out (429 on the right password, kept up by one try every
// 6 s). Now failures count per client address, per (address, handle), and per handle from
// all addresses; the last only slows an address that has not failed. Client addresses are
// simulated with TRUST_PROXY=127.0.0.1 and X-Forwarded-For; a second server without
// TRUST_PROXY shows the header is ignored by default.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopServer } from '../lib/server.js';
import { randomHandle, request } from '../lib/http.js';

const PASSWORD = 'correct horse battery';
// The fixed limits of server/login_guard.go.
const PAIR_BURST = 10;
const ADDR_BURST = 50;
const HANDLE_BURST = 20;
const REGISTER_BURST = 10; // AUTH_REGISTER_BURST's default

let addrSeq = 0;
/** A fresh client address, never used before in this file. */
const freshAddr = () => `198.18.${(++addrSeq) >> 8}.${addrSeq & 255}`;

const from = (addr) => ({ headers: { 'X-Forwarded-For': addr } });
const login = (srv, handle, password, addr) => request(srv, 'POST', '/auth/login', { handle, password }, from(addr));

async function registerFrom(srv, addr, handle = randomHandle('lim')) {
  const res = await request(srv, 'POST', '/auth/register', { handle, name: 'Limits', password: PASSWORD }, from(addr));
  assert.equal(res.status, 201, res.text);
  return handle;
}

async function timed(p) {
  const t0 = performance.now();
  const res = await p;
  return { res, ms: performance.now() - t0 };
}

function assertLimited(res, what) {
  assert.equal(res.status, 429, `${what}: expected 429, got ${res.status} ${res.text}`);
  assert.equal(res.body?.code, 'RATE_LIMITED', `${what}: ${res.text}`);
  assert.equal(typeof res.body?.error, 'string');
  assert.ok(res.body.retryAfterMs > 0, `${what}: retryAfterMs ${res.body.retryAfterMs}`);
  assert.match(res.headers.get('retry-after') ?? '', /^[1-9]\d*$/, `${what}: Retry-After header`);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

describe('with TRUST_PROXY=127.0.0.1', () => {
  let srv;
  // AUTH_REGISTER_BURST: null puts back the default the harness lifts.
  before(async () => { srv = await startServer({ env: { TRUST_PROXY: '127.0.0.1', AUTH_REGISTER_BURST: null } }); });
  after(async () => { await stopServer(srv); });

  test('ten wrong passwords from an attacker limit the attacker, not the owner', async () => {
    const victim = await registerFrom(srv, freshAddr());
    const attacker = freshAddr();
    const owner = freshAddr();
    for (let i = 0; i < PAIR_BURST; i++) {
      assert.equal((await login(srv, victim, `guess ${i}`, attacker)).status, 401);
    }
    assertLimited(await login(srv, victim, 'guess 11', attacker), 'the attacker\'s 11th guess');
    assertLimited(await login(srv, victim, PASSWORD, attacker), 'the right password from the attacker\'s address');
    const { res, ms } = await timed(login(srv, victim, PASSWORD, owner));
    assert.equal(res.status, 200, `the owner from their own address: ${res.status} ${res.text}`);
    assert.ok(ms < 900, `the owner was not slowed (${ms.toFixed(0)} ms)`);
    // The attacker's address may still log in to other accounts it has not failed on.
    const other = await registerFrom(srv, freshAddr());
    assert.equal((await login(srv, other, PASSWORD, attacker)).status, 200);
  });

  test('past the per-handle cap, addresses that failed are refused and a fresh address is only slowed', { timeout: 30_000 }, async () => {
    const victim = await registerFrom(srv, freshAddr());
    const botnet = Array.from({ length: HANDLE_BURST / 4 }, freshAddr);
    for (const addr of botnet) {
      for (let i = 0; i < 4; i++) assert.equal((await login(srv, victim, `guess ${i}`, addr)).status, 401);
    }
    // The handle has had its 20 failures: an address that took part is refused, even with
    // the right password.
    assertLimited(await login(srv, victim, PASSWORD, botnet[0]), 'a failed address past the cap');
    // The owner, from an address that has not failed, gets in, about a second later.
    const owner = await timed(login(srv, victim, PASSWORD, freshAddr()));
    assert.equal(owner.res.status, 200, `the owner past the cap: ${owner.res.status} ${owner.res.text}`);
    assert.ok(owner.ms >= 950 && owner.ms < 5000, `the owner was slowed by about 1 s (${owner.ms.toFixed(0)} ms)`);
    // A new attacking address gets one slowed guess, then is refused like the others.
    const newcomer = freshAddr();
    const guess = await timed(login(srv, victim, 'one more guess', newcomer));
    assert.equal(guess.res.status, 401);
    assert.ok(guess.ms >= 950, `a new address's guess was slowed too (${guess.ms.toFixed(0)} ms)`);
    assertLimited(await login(srv, victim, 'and another', newcomer), 'the new address\'s second guess');
    // Other handles are untouched by this handle's cap.
    const bystander = await registerFrom(srv, freshAddr());
    const b = await timed(login(srv, bystander, PASSWORD, botnet[1]));
    assert.equal(b.res.status, 200);
    assert.ok(b.ms < 900, `another handle is not slowed (${b.ms.toFixed(0)} ms)`);
  });

  test('one address spraying guesses across many handles is limited per address', { timeout: 30_000 }, async () => {
    const target = await registerFrom(srv, freshAddr());
    const sprayer = freshAddr();
    // The address bucket refills at one failure every 2 s while the guesses run (~50 ms
    // each), so count the failures until the first refusal.
    const t0 = Date.now();
    let failures = 0;
    let res;
    for (let i = 0; i < ADDR_BURST + 30; i++) {
      res = await login(srv, randomHandle('spray'), PASSWORD, sprayer);
      if (res.status !== 401) break;
      failures++;
    }
    assertLimited(res, 'a guess from the spraying address');
    const refilled = Math.ceil((Date.now() - t0) / 2000);
    assert.ok(failures >= ADDR_BURST && failures <= ADDR_BURST + refilled,
      `${failures} failures before the refusal, want ${ADDR_BURST} plus at most ${refilled} refilled`);
    // Refused for any handle, even with its right password, until the bucket refills (if
    // a token is about to come back, spend it first so the check meets an empty bucket).
    if (res.body.retryAfterMs < 300) {
      await new Promise((r) => setTimeout(r, res.body.retryAfterMs + 10));
      assert.equal((await login(srv, randomHandle('spray'), PASSWORD, sprayer)).status, 401);
    }
    assertLimited(await login(srv, target, PASSWORD, sprayer), 'the right password from the spraying address');
    assert.equal((await login(srv, target, PASSWORD, freshAddr())).status, 200, 'another address is not affected');
  });

  test('registrations are limited per address', async () => {
    const addr = freshAddr();
    for (let i = 0; i < REGISTER_BURST; i++) await registerFrom(srv, addr);
    const res = await request(srv, 'POST', '/auth/register', { handle: randomHandle('reg'), name: 'N', password: PASSWORD }, from(addr));
    assertLimited(res, `registration ${REGISTER_BURST + 1} from one address`);
    await registerFrom(srv, freshAddr());
  });

  test('a wrong handle and a wrong password get the same status, body and time', { timeout: 30_000 }, async () => {
    const handles = [];
    for (let i = 0; i < 4; i++) handles.push(await registerFrom(srv, freshAddr()));
    const wrongPw = [];
    const wrongHandle = [];
    let pwBody;
    let handleBody;
    for (let i = 0; i < 16; i++) {
      const a = await timed(login(srv, handles[i % handles.length], 'not the password', freshAddr()));
      const b = await timed(login(srv, randomHandle('nobody'), 'not the password', freshAddr()));
      assert.equal(a.res.status, 401);
      assert.equal(b.res.status, 401);
      pwBody ??= a.res.text;
      handleBody ??= b.res.text;
      assert.equal(a.res.text, pwBody);
      wrongPw.push(a.ms);
      wrongHandle.push(b.ms);
    }
    assert.equal(handleBody, pwBody, 'identical bodies');
    const [mp, mh] = [median(wrongPw), median(wrongHandle)];
    console.log(`# login timing medians: wrong password ${mp.toFixed(1)} ms, wrong handle ${mh.toFixed(1)} ms`);
    assert.ok(Math.abs(mp - mh) < Math.max(10, 0.25 * Math.max(mp, mh)),
      `median wrong password ${mp.toFixed(1)} ms vs wrong handle ${mh.toFixed(1)} ms`);
  });
});

describe('without TRUST_PROXY', () => {
  let srv;
  before(async () => { srv = await startServer(); });
  after(async () => { await stopServer(srv); });

  test('X-Forwarded-For is ignored: every request counts under the peer address', async () => {
    const handle = await registerFrom(srv, '203.0.113.1');
    for (let i = 0; i < PAIR_BURST; i++) {
      assert.equal((await login(srv, handle, `guess ${i}`, `203.0.113.${i + 10}`)).status, 401);
    }
    assertLimited(await login(srv, handle, PASSWORD, '198.51.100.200'), 'a "new" forwarded address from the same peer');
  });
});
