// Uploads over HTTP (POST /uploads, GET /uploads/<id>) and a look at what the server
// stored: the files of its uploads directory (SQLite) or its attachments collection and
// GridFS bucket (MongoDB).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { MONGO_URI, mongoMode } from './server.js';
import { count } from './mongo-wire.js';

/** A 1×1 PNG. */
export const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
export const HTML = Buffer.from('<!DOCTYPE html><html><body><script>alert(document.domain)</script></body></html>');

/**
 * POST /uploads. body: a Buffer (sent with Content-Length) or an async iterable of Buffers
 * (streamed, chunked). Resolves { status, headers, body } (body: the JSON answer).
 */
export async function upload(server, token, body, { name, contentType = 'application/octet-stream', headers = {} } = {}) {
  const h = { 'content-type': contentType, ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  const init = { method: 'POST', headers: h, signal: AbortSignal.timeout(60_000) };
  if (Buffer.isBuffer(body)) {
    init.body = body;
  } else {
    const it = body[Symbol.asyncIterator]();
    init.body = new ReadableStream({
      async pull(ctl) {
        const { value, done } = await it.next();
        if (done) ctl.close(); else ctl.enqueue(value);
      },
    });
    init.duplex = 'half';
  }
  const q = name === undefined ? '' : `?name=${encodeURIComponent(name)}`;
  const res = await fetch(`${server.url}/uploads${q}`, init);
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, body: json, text };
}

/** GET (or HEAD) of a server path, with a bearer token when given; resolves { status, headers, bytes }. */
export async function download(server, urlPath, { token, method = 'GET' } = {}) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const res = await fetch(server.url + urlPath, { method, headers, signal: AbortSignal.timeout(60_000) });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

function filesUnder(dir) {
  let out = [];
  let entries;
  try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return out; }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    out = e.isDirectory() ? out.concat(filesUnder(p)) : out.concat([p]);
  }
  return out;
}

/**
 * What the server holds of uploads: SQLite, { files } (every file under uploads/, half
 * written ones included); MongoDB, { attachments, files, chunks } (documents of the
 * attachments collection, uploads.files and uploads.chunks).
 */
export async function stored(server) {
  if (!mongoMode) return { files: filesUnder(path.join(server.dataDir, 'uploads')).length };
  const db = server.mongoDb;
  return {
    attachments: await count(MONGO_URI, db, 'attachments'),
    files: await count(MONGO_URI, db, 'uploads.files'),
    chunks: await count(MONGO_URI, db, 'uploads.chunks'),
  };
}

/** stored() for nothing at all. */
export const NOTHING = mongoMode ? { attachments: 0, files: 0, chunks: 0 } : { files: 0 };
