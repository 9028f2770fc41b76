// HTTP helpers: JSON requests, register and login.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

/** Sends a request; `body` is JSON-encoded unless `raw` (a string) is given. */
export async function request(server, method, path, body, { raw, headers = {} } = {}) {
  const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(10_000) };
  if (raw !== undefined) {
    init.body = raw;
    init.headers['content-type'] ??= 'application/json';
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(server.url + path, init);
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, body: json };
}

/** A random valid handle: lower case letters/digits, `prefix` + 10 hex, ≤ 32 chars. */
export function randomHandle(prefix = 'u') {
  return `${prefix}_${randomBytes(5).toString('hex')}`.slice(0, 32);
}

export const DEFAULT_PASSWORD = 'correct horse battery';

/** POST /auth/register, asserting 201; returns { token, user, handle, name, password }. */
export async function register(server, { handle = randomHandle(), name, password = DEFAULT_PASSWORD } = {}) {
  name ??= `Name ${handle}`;
  const res = await request(server, 'POST', '/auth/register', { handle, name, password });
  assert.equal(res.status, 201, `register ${handle}: expected 201, got ${res.status} ${res.text}`);
  assert.equal(typeof res.body?.token, 'string', `register: no token in ${res.text}`);
  assert.equal(typeof res.body?.user?.id, 'string', `register: no user.id in ${res.text}`);
  return { token: res.body.token, user: res.body.user, handle, name, password };
}

/** POST /auth/login, asserting 200. */
export async function login(server, handle, password = DEFAULT_PASSWORD) {
  const res = await request(server, 'POST', '/auth/login', { handle, password });
  assert.equal(res.status, 200, `login ${handle}: expected 200, got ${res.status} ${res.text}`);
  return res.body;
}
