// Attachments (PROTOCOL.md "Uploads", Message.attachments): POST /uploads, attaching with
// message:new, GET /uploads/<id> by token and by signed url, who may read what (outsiders
// get the 404 of a missing id), sniffed types (HTML as a download, PNG inline, nosniff),
// the size cap (10 MiB + 1 byte is 413 and leaves nothing stored), refusals that store no
// message, concurrent claims, a member who leaves, message:delete removing the bytes, the
// sweep of uploads never attached, link expiry, Origin and the upload rate limit. What is
// stored is read from the server's uploads directory (SQLite) or its attachments
// collection and GridFS bucket (MongoDB, lib/mongo-wire.js).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { startServer, stopServer } from '../lib/server.js';
import { assertAttachment, assertErr, assertMessage, barrier, HEX24, newUsers, randomId } from '../lib/fixtures.js';
import { download, HTML, NOTHING, PNG, stored, upload } from '../lib/uploads.js';

const MiB = 1 << 20;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// These tests are about attachments, not limits.
const unlimited = {
  RATE_LIMIT_PER_SEC: '1000000', RATE_LIMIT_BURST: '1000000',
  RATE_MESSAGES_PER_SEC: '1000000', RATE_MESSAGES_BURST: '1000000',
  RATE_UPLOADS_PER_SEC: '1000000', RATE_UPLOADS_BURST: '1000000',
};

/** Uploads body as user and returns the attachment, asserting 201. */
async function put(srv, user, body, opts) {
  const res = await upload(srv, user.token, body, opts);
  assert.equal(res.status, 201, `upload: ${res.status} ${res.text}`);
  assertAttachment(res.body.attachment, 'upload answer');
  return res.body.attachment;
}

const ids = (as) => as.map((a) => a.id);

/** The difference of two stored() snapshots. */
const grew = (a, b) => Object.fromEntries(Object.keys(a).map((k) => [k, b[k] - a[k]]));

/** Every answer that must read as "no such upload", compared without its id. */
async function probe(srv, user, id) {
  const r = await download(srv, `/uploads/${id}`, { token: user?.token });
  return { status: r.status, body: r.bytes.toString(), type: r.headers.get('content-type') };
}

function* chunks(total, size) {
  for (let sent = 0; sent < total; sent += size) yield Buffer.alloc(Math.min(size, total - sent), 0x61);
}
async function* slowly(total, size) {
  for (const c of chunks(total, size)) { yield c; await sleep(1); }
}

describe('attachments', () => {
  let srv; let a; let b; let o; let a1; let a2; let b1; let o1; let chat;
  before(async () => {
    srv = await startServer({ env: unlimited });
    [a, b, o] = await newUsers(srv, 3);
    [a1, a2, b1, o1] = await Promise.all([a.connect(), a.connect(), b.connect(), o.connect()]);
    const w = b1.next('chat:new');
    chat = (await a1.ok('chat:create', { type: 'group', name: 'Files', participantIds: [b.id] })).chat;
    await w;
  });
  after(async () => { await stopServer(srv); });

  test('POST /uploads: 201 {attachment}; the stored type is sniffed, not the declared one; no token is 401', async () => {
    const res = await upload(srv, a.token, PNG, { name: 'dot.png', contentType: 'text/plain' });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(Object.keys(res.body), ['attachment']);
    const att = res.body.attachment;
    assert.deepEqual(Object.keys(att).sort(), ['contentType', 'id', 'name', 'size', 'url']);
    assert.match(att.id, HEX24);
    assert.equal(att.name, 'dot.png');
    assert.equal(att.size, PNG.length);
    assert.equal(att.contentType, 'image/png');
    for (const token of [undefined, 'not-a-token']) {
      const r = await upload(srv, token, PNG);
      assert.equal(r.status, 401, `token ${token}: ${r.text}`);
      assert.equal(r.body.code, 'UNAUTHORIZED');
    }
    const empty = await upload(srv, a.token, Buffer.alloc(0));
    assert.equal(empty.status, 400, empty.text);
    assert.equal(empty.body.code, 'VALIDATION_ERROR');
  });

  test('a PNG is served inline as image/png, with nosniff', async () => {
    const att = await put(srv, a, PNG, { name: 'dot.png' });
    for (const [what, path, token] of [['token', `/uploads/${att.id}`, a.token], ['signed url', att.url, undefined]]) {
      const r = await download(srv, path, { token });
      assert.equal(r.status, 200, what);
      assert.deepEqual(r.bytes, PNG, `${what}: the bytes`);
      assert.equal(r.headers.get('content-type'), 'image/png', what);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', what);
      assert.equal(r.headers.get('content-disposition'), `inline; filename="dot.png"; filename*=UTF-8''dot.png`, what);
      assert.equal(r.headers.get('content-length'), String(PNG.length), what);
    }
  });

  test('an HTML file uploaded as image/png is stored as text/html and served as a download (attachment, nosniff, sandboxed)', async () => {
    const att = await put(srv, a, HTML, { name: 'page.png', contentType: 'image/png' });
    assert.equal(att.contentType, 'text/html; charset=utf-8');
    const r = await download(srv, att.url);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(r.headers.get('content-disposition'), /^attachment; filename="page\.png"; filename\*=UTF-8''page\.png$/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.match(r.headers.get('content-security-policy'), /sandbox/);
    // SVG is never inline: it is a document with scripts.
    const svg = await put(srv, a, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'), { contentType: 'image/svg+xml' });
    assert.notEqual(svg.contentType, 'image/svg+xml');
    assert.match((await download(srv, svg.url)).headers.get('content-disposition'), /^attachment;/);
  });

  test('names are sanitised (path, controls, bidi overrides) and sent RFC 6266/5987-encoded', async () => {
    const att = await put(srv, a, Buffer.from('plain text'), { name: '../../etc/Grüße\u202E"gnp.txt\n' });
    assert.equal(att.name, 'Grüße_gnp.txt');
    const r = await download(srv, att.url);
    assert.equal(r.headers.get('content-disposition'), `attachment; filename="Gr__e_gnp.txt"; filename*=UTF-8''Gr%C3%BC%C3%9Fe_gnp.txt`);
    const viaHeader = await put(srv, a, Buffer.from('x'), { headers: { 'x-filename': encodeURIComponent('ünï.txt') } });
    assert.equal(viaHeader.name, 'ünï.txt');
    const unnamed = await put(srv, a, PNG);
    assert.equal(unnamed.name, 'upload.png');
  });

  test('message:new with attachments: ack, broadcast, message:list, sync and chat:list carry them; text may be empty', async () => {
    const png = await put(srv, a, PNG, { name: 'p.png' });
    const html = await put(srv, a, HTML, { name: 'h.html' });
    const toB = b1.next('message:new', (p) => p.message.attachments.length === 2);
    const toA2 = a2.next('message:new', (p) => p.message.attachments.length === 2);
    const { message } = await a1.ok('message:new', { chatId: chat.id, text: '   ', attachments: [html.id, png.id] });
    assertMessage(message);
    assert.equal(message.text, '');
    assert.deepEqual(ids(message.attachments), [html.id, png.id]);
    assert.deepEqual(message.attachments.map((x) => [x.name, x.size, x.contentType]),
      [['h.html', HTML.length, 'text/html; charset=utf-8'], ['p.png', PNG.length, 'image/png']]);
    for (const ev of [await toB, await toA2]) {
      assertMessage(ev.message);
      assert.deepEqual(ids(ev.message.attachments), [html.id, png.id]);
    }
    const plain = await b1.ok('message:new', { chatId: chat.id, text: 'no files' });
    assert.deepEqual(plain.message.attachments, []);
    const listed = (await b1.ok('message:list', { chatId: chat.id })).messages;
    const l = listed.find((m) => m.id === message.id);
    assert.deepEqual(ids(l.attachments), [html.id, png.id], 'message:list');
    const synced = (await b1.ok('sync', { cursors: { [chat.id]: message.seq - 1 } })).messages;
    assert.deepEqual(ids(synced.find((m) => m.id === message.id).attachments), [html.id, png.id], 'sync');
    await a1.ok('message:new', { chatId: chat.id, text: '', attachments: [(await put(srv, a, PNG)).id] });
    const c = (await b1.ok('chat:list', {})).chats.find((x) => x.id === chat.id);
    assert.equal(c.lastMessage.attachments.length, 1, 'chat:list lastMessage');
    // Every rendered url works without a token.
    for (const att of [...(await toB).message.attachments, ...l.attachments, ...c.lastMessage.attachments]) {
      const r = await download(srv, att.url);
      assert.equal(r.status, 200, att.url);
      assert.equal(r.bytes.length, att.size);
    }
    // Without attachments text is required as before.
    assertErr(await a1.ack('message:new', { chatId: chat.id, text: ' ', attachments: [] }), 'VALIDATION_ERROR');
    assertErr(await a1.ack('message:new', { chatId: chat.id, text: '' }), 'VALIDATION_ERROR');
  });

  test('members read an attachment with their token; outsiders get 404 for every upload id, exactly as for a missing one', async () => {
    const posted = await put(srv, a, PNG);
    const unposted = await put(srv, a, HTML);
    await a1.ok('message:new', { chatId: chat.id, text: 'for members', attachments: [posted.id] });
    assert.equal((await download(srv, `/uploads/${posted.id}`, { token: b.token })).status, 200, 'a member');
    assert.equal((await download(srv, `/uploads/${unposted.id}`, { token: a.token })).status, 200, 'the uploader, unattached');
    const missing = await probe(srv, o, randomId());
    assert.equal(missing.status, 404);
    assert.equal(JSON.parse(missing.body).code, 'NOT_FOUND');
    for (const [who, user, id] of [['outsider', o, posted.id], ['outsider', o, unposted.id], ['member', b, unposted.id],
      ['outsider', o, 'not-an-id'], ['outsider', o, randomId()]]) {
      assert.deepEqual(await probe(srv, user, id), missing, `${who} probing ${id}`);
    }
    // Nothing of another user's upload is reachable through a signed url of one's own.
    const own = new URL(posted.url, srv.url);
    const moved = `/uploads/${unposted.id}?${own.searchParams}`;
    assert.deepEqual(await probe(srv, undefined, `${unposted.id}?${own.searchParams}`), missing, moved);
  });

  test("attaching someone else's upload (NOT_FOUND) or one already attached (CONFLICT) stores and broadcasts nothing", async () => {
    const bobs = await put(srv, b, PNG);
    const mine = await put(srv, a, PNG);
    const used = await put(srv, a, PNG);
    await a1.ok('message:new', { chatId: chat.id, text: 'first', attachments: [used.id] });
    const before = (await b1.ok('chat:get', { chatId: chat.id })).chat.lastSeq;
    const r1 = await a1.ack('message:new', { chatId: chat.id, text: 'steal', attachments: [mine.id, bobs.id], clientId: 'steal-1' });
    assertErr(r1, 'NOT_FOUND', "someone else's upload");
    const r2 = await a1.ack('message:new', { chatId: chat.id, text: 'again', attachments: [mine.id, used.id] });
    assertErr(r2, 'CONFLICT', 'an upload already attached');
    const r3 = await a1.ack('message:new', { chatId: chat.id, text: 'gone', attachments: [randomId()] });
    assertErr(r3, 'NOT_FOUND', 'an upload that does not exist');
    await barrier(a1, chat.id, [b1]);
    assert.equal(b1.received('message:new', (p) => ['steal', 'again', 'gone'].includes(p.message.text)).length, 0, 'a refused message was broadcast');
    const afterSeq = (await b1.ok('chat:get', { chatId: chat.id })).chat.lastSeq;
    assert.equal(afterSeq, before + 1, 'only the barrier took a seq');
    const texts = (await a1.ok('message:list', { chatId: chat.id })).messages.map((m) => m.text);
    assert.ok(!texts.some((t) => ['steal', 'again', 'gone'].includes(t)), `stored: ${texts}`);
    // The uploads named next to the refused ones are still free.
    const ok = await a1.ok('message:new', { chatId: chat.id, text: 'mine', attachments: [mine.id] });
    assert.deepEqual(ids(ok.message.attachments), [mine.id]);
    assert.equal((await download(srv, `/uploads/${bobs.id}`, { token: a.token })).status, 404, "bob's upload stays bob's");
  });

  test('at most 10 attachments (11 is VALIDATION_ERROR); repeated ids are VALIDATION_ERROR', async () => {
    const eleven = [];
    for (let i = 0; i < 11; i++) eleven.push((await put(srv, a, PNG)).id);
    const res = await a1.ack('message:new', { chatId: chat.id, text: 'many', attachments: eleven });
    assertErr(res, 'VALIDATION_ERROR', '11 attachments');
    assert.ok(res.issues.some((i) => i.path === 'attachments'), JSON.stringify(res.issues));
    assertErr(await a1.ack('message:new', { chatId: chat.id, text: 'x', attachments: [eleven[0], eleven[0]] }), 'VALIDATION_ERROR');
    const ten = await a1.ok('message:new', { chatId: chat.id, text: '', attachments: eleven.slice(0, 10) });
    assert.deepEqual(ids(ten.message.attachments), eleven.slice(0, 10));
  });

  test('two message:new with the same upload at once: exactly one is stored', async () => {
    for (let round = 0; round < 5; round++) {
      const att = await put(srv, a, PNG);
      const seq0 = (await a1.ok('chat:get', { chatId: chat.id })).chat.lastSeq;
      const [r1, r2] = await Promise.all([
        a1.ack('message:new', { chatId: chat.id, text: `race ${round} tab 1`, attachments: [att.id] }),
        a2.ack('message:new', { chatId: chat.id, text: `race ${round} tab 2`, attachments: [att.id], clientId: `race-${round}` }),
      ]);
      const wins = [r1, r2].filter((r) => r.success);
      assert.equal(wins.length, 1, `round ${round}: ${JSON.stringify([r1, r2])}`);
      assertErr([r1, r2].find((r) => !r.success), 'CONFLICT');
      assert.equal((await a1.ok('chat:get', { chatId: chat.id })).chat.lastSeq, seq0 + 1, `round ${round}: one seq`);
    }
  });

  test('a signed url works without a token; a tampered signature, another id or a stretched expiry is 404', async () => {
    const att = await put(srv, a, PNG);
    const r = await download(srv, att.url);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('cache-control'), /^private, max-age=\d+$/);
    const u = new URL(att.url, srv.url);
    const exp = u.searchParams.get('exp');
    const sig = u.searchParams.get('sig');
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    const missing = await probe(srv, undefined, randomId() + `?exp=${exp}&sig=${sig}`);
    assert.equal(missing.status, 404);
    for (const path of [
      `/uploads/${att.id}?exp=${exp}&sig=${flipped}`,
      `/uploads/${att.id}?exp=${Number(exp) + 3600}&sig=${sig}`,
      `/uploads/${att.id}?exp=${exp}`,
      `/uploads/${att.id}?sig=${sig}`,
      `/uploads/${att.id}?exp=${exp}&sig=`,
    ]) {
      const p = await download(srv, path);
      assert.deepEqual({ status: p.status, body: p.bytes.toString() }, { status: missing.status, body: missing.body }, path);
    }
    assert.equal((await download(srv, `/uploads/${att.id}`)).status, 401, 'neither a token nor a signature');
  });

  test('a member who leaves the chat loses access (their token gets 404); the uploader keeps it', async () => {
    const [c] = await newUsers(srv, 1);
    const c1 = await c.connect();
    const w = c1.next('chat:new');
    const g = (await a1.ok('chat:create', { type: 'group', name: 'Leaving', participantIds: [c.id] })).chat;
    await w;
    const att = await put(srv, a, PNG);
    const toC = c1.next('message:new');
    await a1.ok('message:new', { chatId: g.id, text: 'see this', attachments: [att.id] });
    const seen = (await toC).message.attachments[0];
    assert.equal((await download(srv, `/uploads/${att.id}`, { token: c.token })).status, 200, 'while a member');
    await c1.ok('chat:leave', { chatId: g.id });
    assert.deepEqual(await probe(srv, c, att.id), await probe(srv, c, randomId()), 'after leaving: the 404 of a missing id');
    assert.equal((await download(srv, `/uploads/${att.id}`, { token: a.token })).status, 200, 'the uploader');
    // A link rendered while c was a member keeps working until it expires (documented):
    // it is a capability, not tied to a user; c gets no fresh ones.
    assert.equal((await download(srv, seen.url)).status, 200, 'a link issued before leaving');
    assertErr(await c1.ack('message:list', { chatId: g.id }), 'NOT_FOUND');
    c1.close();
  });

  test('message:delete removes the bytes: 404 for everyone and nothing left in the store', async () => {
    const s0 = await stored(srv);
    const big = await put(srv, a, Buffer.alloc(600_000, 0x62), { name: 'big.bin' }); // several GridFS chunks
    const png = await put(srv, a, PNG);
    const { message } = await a1.ok('message:new', { chatId: chat.id, text: 'delete me', attachments: [big.id, png.id] });
    const s1 = await stored(srv);
    assert.ok(Object.values(grew(s0, s1)).every((n) => n > 0), `the uploads are stored: ${JSON.stringify(grew(s0, s1))}`);
    const toB = b1.next('message:deleted', (p) => p.messageId === message.id);
    await a1.ok('message:delete', { messageId: message.id });
    await toB;
    for (const att of message.attachments) {
      for (const [who, token] of [['uploader', a.token], ['member', b.token], ['signed url', undefined]]) {
        const path = token ? `/uploads/${att.id}` : att.url;
        assert.equal((await download(srv, path, { token })).status, 404, `${who} after the delete`);
      }
    }
    assert.deepEqual(await stored(srv), s0, 'what the store holds after the delete');
    const listed = (await b1.ok('message:list', { chatId: chat.id })).messages.find((m) => m.id === message.id);
    assert.equal(listed.deleted, true);
    assert.deepEqual(listed.attachments, []);
  });

  test('10 MiB is accepted; 10 MiB + 1 byte is 413 and nothing is stored (declared length and streamed)', { timeout: 120_000 }, async () => {
    const exact = await put(srv, a, Buffer.alloc(10 * MiB, 0x63), { name: 'ten.bin' });
    assert.equal(exact.size, 10 * MiB);
    const back = await download(srv, exact.url);
    assert.equal(back.status, 200);
    assert.equal(back.bytes.length, 10 * MiB);
    assert.ok(back.bytes.every((x) => x === 0x63), 'the bytes of the 10 MiB upload');
    const s0 = await stored(srv);
    const declared = await upload(srv, a.token, Buffer.alloc(10 * MiB + 1, 0x64));
    assert.equal(declared.status, 413, declared.text);
    assert.equal(declared.body.code, 'PAYLOAD_TOO_LARGE');
    const streamed = await upload(srv, a.token, slowly(10 * MiB + 1, 256 << 10));
    assert.equal(streamed.status, 413, streamed.text);
    assert.equal(streamed.body.code, 'PAYLOAD_TOO_LARGE');
    assert.deepEqual(await stored(srv), s0, 'what the store holds after the refused uploads');
    const st = await upload(srv, a.token, (async function* () { yield* chunks(3 * MiB, MiB); })());
    assert.equal(st.status, 201, `a streamed upload within the limit: ${st.text}`);
    assert.equal(st.body.attachment.size, 3 * MiB);
  });
});

describe('attachments: link expiry and the sweep of uploads never attached', () => {
  let srv; let a; let b; let a1; let chat;
  before(async () => {
    srv = await startServer({ env: { ...unlimited, UPLOAD_TTL_MS: '1500', UPLOAD_URL_TTL_MS: '1000' } });
    [a, b] = await newUsers(srv, 2);
    a1 = await a.connect();
    chat = (await a1.ok('chat:create', { type: 'direct', participantId: b.id })).chat;
  });
  after(async () => { await stopServer(srv); });

  test('a signed url stops working once it expires (UPLOAD_URL_TTL_MS); a fresh view renders a fresh one', async () => {
    const att = await put(srv, a, PNG);
    const { message } = await a1.ok('message:new', { chatId: chat.id, text: '', attachments: [att.id] });
    const link = message.attachments[0].url;
    assert.equal((await download(srv, link)).status, 200, 'a fresh link');
    const exp = Number(new URL(link, srv.url).searchParams.get('exp'));
    assert.ok(exp * 1000 - Date.now() <= 2000, `exp ${exp} is more than the TTL ahead`);
    await sleep(Math.max(0, exp * 1000 - Date.now()) + 50);
    assert.equal((await download(srv, link)).status, 404, 'an expired link');
    assert.equal((await download(srv, `/uploads/${att.id}`, { token: b.token })).status, 200, 'a member token still works');
    const again = (await a1.ok('message:list', { chatId: chat.id })).messages.find((m) => m.id === message.id).attachments[0];
    assert.notEqual(again.url, link);
    assert.equal((await download(srv, again.url)).status, 200, 'the link of a fresh view');
  });

  test('an upload never attached is removed after UPLOAD_TTL_MS, bytes and all; attached ones stay', async () => {
    const s0 = await stored(srv);
    const t0 = Date.now();
    const lone = await put(srv, a, Buffer.alloc(300_000, 0x65));
    const kept = await put(srv, a, PNG);
    await a1.ok('message:new', { chatId: chat.id, text: 'kept', attachments: [kept.id] });
    assert.equal((await download(srv, `/uploads/${lone.id}`, { token: a.token })).status, 200);
    let goneAt = null;
    while (Date.now() - t0 < 8000) {
      if ((await download(srv, `/uploads/${lone.id}`, { token: a.token })).status === 404) { goneAt = Date.now(); break; }
      await sleep(100);
    }
    assert.ok(goneAt !== null, 'the unattached upload was not swept within 8 s');
    assert.ok(goneAt - t0 >= 1500, `swept after ${goneAt - t0} ms, before UPLOAD_TTL_MS`);
    assert.equal((await download(srv, `/uploads/${kept.id}`, { token: b.token })).status, 200, 'the attached upload');
    // The sweep marks the upload "deleting" (downloads answer 404 from then on) before it
    // removes the bytes and then the record: wait, bounded, for it to finish.
    let delta;
    for (const until = Date.now() + 5000; ; await sleep(50)) {
      delta = grew(s0, await stored(srv));
      if (isDeepStrictEqual(delta, mongoDelta()) || Date.now() > until) break;
    }
    assert.deepEqual(delta, mongoDelta(), `only the attached upload is stored: ${JSON.stringify(delta)}`);
    assertErr(await a1.ack('message:new', { chatId: chat.id, text: 'late', attachments: [lone.id] }), 'NOT_FOUND', 'attaching a swept upload');
  });
});

/** What one small upload adds to stored(). */
function mongoDelta() {
  return Object.hasOwn(NOTHING, 'chunks') ? { attachments: 1, files: 1, chunks: 1 } : { files: 1 };
}

describe('attachments: Origin and the upload rate limit', () => {
  let srv; let a;
  before(async () => {
    srv = await startServer({ env: { CORS_ORIGINS: 'http://app.example', RATE_UPLOADS_BURST: '3', RATE_UPLOADS_PER_SEC: '0.01' } });
    [a] = await newUsers(srv, 1);
  });
  after(async () => { await stopServer(srv); });

  test('POST /uploads from a foreign Origin is 403 and stores nothing', async () => {
    const s0 = await stored(srv);
    const r = await upload(srv, a.token, PNG, { headers: { origin: 'http://evil.example' } });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.body.code, 'FORBIDDEN');
    assert.deepEqual(await stored(srv), s0);
    const ok = await upload(srv, a.token, PNG, { headers: { origin: 'http://app.example' } });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.headers.get('access-control-allow-origin'), 'http://app.example');
  });

  test('uploads count against RATE_UPLOADS_*: beyond the burst, 429 RATE_LIMITED with Retry-After', async () => {
    for (let i = 0; i < 2; i++) assert.equal((await upload(srv, a.token, PNG)).status, 201); // the burst of 3, one spent above
    const r = await upload(srv, a.token, PNG);
    assert.equal(r.status, 429, r.text);
    assert.equal(r.body.code, 'RATE_LIMITED');
    assert.ok(r.body.retryAfterMs > 0);
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
  });
});
