// CORS_ORIGINS for the HTTP routes, JSON-only auth bodies, METRICS_ADDR (issue 8, item 6).
// Before: POST /auth/register from Origin: http://evil.example answered 201 with a token,
// with text/plain and form bodies too (a page on any origin can send those without a
// preflight).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { freePort, startServer, stopServer } from '../lib/server.js';
import { randomHandle, request } from '../lib/http.js';

const ALLOWED = 'http://allowed.example';
const EVIL = 'http://evil.example';

function assertErrorBody(res, status, code) {
  assert.equal(res.status, status, `expected HTTP ${status}, got ${res.status} ${res.text}`);
  assert.equal(res.body?.code, code, `expected code ${code}: ${res.text}`);
  assert.equal(typeof res.body?.error, 'string');
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
}

const creds = (handle) => ({ handle, name: 'Origin Test', password: 'correct horse battery' });
const form = (handle) => `handle=${handle}&name=Origin+Test&password=correct+horse+battery`;

describe('CORS_ORIGINS and METRICS_ADDR', () => {
  let srv;
  let metricsUrl;
  before(async () => {
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    srv = await startServer({ env: { CORS_ORIGINS: ALLOWED, METRICS_ADDR: `127.0.0.1:${port}` } });
  });
  after(async () => { await stopServer(srv); });

  test('register and login from a foreign Origin are 403 FORBIDDEN, whatever the body type, and change nothing', async () => {
    const handle = randomHandle('evil');
    const attempts = [
      ['POST', '/auth/register', { raw: JSON.stringify(creds(handle)), headers: { Origin: EVIL } }],
      ['POST', '/auth/register', { raw: JSON.stringify(creds(handle)), headers: { Origin: EVIL, 'content-type': 'text/plain' } }],
      ['POST', '/auth/register', { raw: form(handle), headers: { Origin: EVIL, 'content-type': 'application/x-www-form-urlencoded' } }],
      ['POST', '/auth/register', { raw: 'x', headers: { Origin: EVIL, 'content-type': 'multipart/form-data; boundary=b' } }],
      ['POST', '/auth/login', { raw: JSON.stringify({ handle, password: 'x' }), headers: { Origin: EVIL } }],
      ['POST', '/auth/login', { raw: JSON.stringify({ handle, password: 'x' }), headers: { Origin: 'null' } }],
      ['DELETE', '/auth/register', { raw: '{}', headers: { Origin: EVIL } }],
    ];
    for (const [method, path, opts] of attempts) {
      const res = await request(srv, method, path, undefined, opts);
      assertErrorBody(res, 403, 'FORBIDDEN');
      assert.equal(res.headers.get('access-control-allow-origin'), null, 'no CORS grant on a refusal');
    }
    // Nothing was created: the handle is still free.
    assert.equal((await request(srv, 'POST', '/auth/register', creds(handle))).status, 201);
  });

  test('the allowed Origin, and requests without an Origin (not a browser), go through', async () => {
    const res = await request(srv, 'POST', '/auth/register', creds(randomHandle('ok')), { headers: { Origin: ALLOWED } });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers.get('access-control-allow-origin'), ALLOWED);
    const pre = await request(srv, 'OPTIONS', '/auth/register', undefined, { headers: { Origin: ALLOWED, 'Access-Control-Request-Method': 'POST' } });
    assert.equal(pre.status, 204);
    assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.equal((await request(srv, 'POST', '/auth/register', creds(randomHandle('cli')))).status, 201);
    // A GET from a foreign origin changes nothing and is answered, without a CORS grant.
    const health = await request(srv, 'GET', '/healthz', undefined, { headers: { Origin: EVIL } });
    assert.equal(health.status, 200);
    assert.equal(health.headers.get('access-control-allow-origin'), null);
  });

  test('auth routes take only application/json: anything else is 415 VALIDATION_ERROR', async () => {
    for (const path of ['/auth/register', '/auth/login']) {
      for (const ct of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'application/json; charset=iso-8859-1', 'application/xml']) {
        const res = await request(srv, 'POST', path, undefined, { raw: JSON.stringify(creds(randomHandle('ct'))), headers: { 'content-type': ct } });
        assertErrorBody(res, 415, 'VALIDATION_ERROR');
        assert.equal(res.body.issues?.[0]?.path, 'content-type', res.text);
      }
      // No Content-Type at all (fetch sends text/plain for a string body; a raw request
      // shows the bare case).
      const bare = await new Promise((resolve, reject) => {
        const req = http.request(`${srv.url}${path}`, { method: 'POST' }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => { text += d; });
          res.on('end', () => resolve({ status: res.statusCode, text }));
        });
        req.on('error', reject);
        req.end(JSON.stringify(creds(randomHandle('bare'))));
      });
      assert.equal(bare.status, 415, bare.text);
    }
    const utf8 = await request(srv, 'POST', '/auth/register', undefined,
      { raw: JSON.stringify(creds(randomHandle('utf'))), headers: { 'content-type': 'application/json; charset=utf-8' } });
    assert.equal(utf8.status, 201, utf8.text);
  });

  test('with METRICS_ADDR, /metrics is served there and is 404 on the public port', async () => {
    assertErrorBody(await request(srv, 'GET', '/metrics'), 404, 'NOT_FOUND');
    const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /^# (HELP|TYPE) /m);
    const refused = Number(/^parley_http_origin_refused_total (\d+)$/m.exec(text)?.[1]);
    assert.ok(refused >= 7, `parley_http_origin_refused_total ${refused}, want the refusals above counted`);
    // The metrics listener serves only /metrics.
    assert.equal((await fetch(metricsUrl.replace('/metrics', '/auth/register'), { method: 'POST' })).status, 404);
  });
});
