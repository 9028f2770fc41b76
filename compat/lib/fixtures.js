// Test users and shared assertions.
import assert from 'node:assert/strict';
import { connect, short } from './client.js';
import { register, randomHandle } from './http.js';

export { randomHandle } from './http.js';
export { randomId } from './jwt.js';

export class TestUser {
  constructor(server, reg) {
    this.server = server;
    this.token = reg.token;
    this.user = reg.user;
    this.id = reg.user.id;
    this.handle = reg.handle.toLowerCase();
    this.name = reg.name;
    this.password = reg.password;
    this.tabs = 0;
  }

  /** Opens a socket (websocket by default) for this user. */
  connect(opts = {}) {
    return connect(this.server, this.token, { label: `${this.handle}#${++this.tabs}`, ...opts });
  }
}

export async function newUser(server, opts = {}) {
  return new TestUser(server, await register(server, opts));
}

/** Registers `n` users (a few at a time: password hashing is CPU-bound). */
export async function newUsers(server, n, opts = {}) {
  const out = [];
  const batch = opts.batch ?? 4;
  for (let i = 0; i < n; i += batch) {
    const k = Math.min(batch, n - i);
    out.push(...(await Promise.all(Array.from({ length: k }, (_, j) => newUser(server, opts.each?.(i + j) ?? {})))));
  }
  return out;
}

/** Registers users and opens one websocket each; returns [{ u, c }...]. */
export async function usersWithSockets(server, n) {
  const us = await newUsers(server, n);
  return Promise.all(us.map(async (u) => ({ u, c: await u.connect() })));
}

let marker = 0;
/**
 * Causal barrier. `sender` posts a marker message into `chatId`; resolves once every client in
 * `targets` has received it. Socket.IO keeps each connection's packets in order, and the
 * marker is sent after the action under test was acknowledged and (where a target also
 * observes it) delivered elsewhere, so anything the server emitted to a target because of
 * that action has arrived before the marker: a later look at the target's inbox for an
 * unwanted event is sound. The sender's own socket gets no copy of the marker.
 */
export async function barrier(sender, chatId, targets) {
  const text = `barrier ${process.pid}-${++marker}-${Date.now()}`;
  const pred = (p) => p?.message?.text === text;
  pred.label = `barrier message "${text}"`;
  const waits = targets.map((t) => t.next('message:new', pred, 10_000));
  await sender.ok('message:new', { chatId, text });
  await Promise.all(waits);
}

/**
 * Waits (bounded, `seconds`) until `observer` sees `userId` offline: the server has
 * processed the close of the user's last socket.
 */
export async function waitOffline(observer, userId, seconds = 5) {
  for (const end = Date.now() + seconds * 1000; Date.now() < end; ) {
    const p = (await observer.ok('presence:get', { userIds: [userId] })).presence[0];
    if (!p.online) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${userId} still online ${seconds} s after closing their last socket`);
}

// ---- assertions ----

export function assertOk(res, what = '') {
  assert.equal(res?.success, true, `${what} expected success, got ${short(res)}`);
  return res;
}

/** Asserts a failure ack with `code` (or one of `code` when an array). */
export function assertErr(res, code, what = '') {
  assert.equal(res?.success, false, `${what} expected failure ${code}, got ${short(res)}`);
  const codes = Array.isArray(code) ? code : [code];
  assert.ok(codes.includes(res.code), `${what} expected code ${codes.join('|')}, got ${short(res)}`);
  assert.equal(typeof res.error, 'string', `${what} error must be a string: ${short(res)}`);
  assert.ok(res.error.length > 0, `${what} error must not be empty`);
  if (res.code === 'VALIDATION_ERROR') {
    assert.ok(res.issues !== undefined && res.issues !== null, `${what} VALIDATION_ERROR must carry issues: ${short(res)}`);
    if (Array.isArray(res.issues)) assert.ok(res.issues.length > 0, `${what} issues must not be empty: ${short(res)}`);
  }
  return res;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
export const HEX24 = /^[0-9a-f]{24}$/;

export function assertIso(v, what) {
  assert.equal(typeof v, 'string', `${what} must be an ISO-8601 string, got ${short(v)}`);
  assert.match(v, ISO, `${what} must be ISO-8601, got ${v}`);
  assert.ok(!Number.isNaN(Date.parse(v)), `${what} must parse as a date: ${v}`);
}

function assertIsoOrNull(v, what) {
  if (v !== null) assertIso(v, what);
}

function hasKeys(obj, keys, what) {
  assert.ok(obj && typeof obj === 'object' && !Array.isArray(obj), `${what} must be an object: ${short(obj)}`);
  for (const k of keys) assert.ok(Object.hasOwn(obj, k), `${what} lacks field '${k}': ${short(obj)}`);
}

/** PROTOCOL.md `User`. */
export function assertUser(u, what = 'User') {
  hasKeys(u, ['id', 'handle', 'name', 'image', 'online', 'lastSeen'], what);
  assert.equal(typeof u.id, 'string', `${what}.id`);
  assert.equal(typeof u.handle, 'string', `${what}.handle`);
  assert.equal(typeof u.name, 'string', `${what}.name`);
  assert.ok(u.image === null || typeof u.image === 'string', `${what}.image must be string|null: ${short(u.image)}`);
  assert.equal(typeof u.online, 'boolean', `${what}.online`);
  assertIsoOrNull(u.lastSeen, `${what}.lastSeen`);
}

function assertUserRef(r, what) {
  hasKeys(r, ['id', 'handle', 'name', 'image'], what);
  assert.equal(typeof r.id, 'string', `${what}.id`);
  assert.equal(typeof r.handle, 'string', `${what}.handle`);
  assert.equal(typeof r.name, 'string', `${what}.name`);
  assert.ok(r.image === null || typeof r.image === 'string', `${what}.image`);
}

/** PROTOCOL.md `Message`. */
export function assertMessage(m, what = 'Message') {
  hasKeys(m, ['id', 'chatId', 'seq', 'sender', 'text', 'replyTo', 'clientId', 'createdAt', 'editedAt', 'deleted', 'reactions', 'mentions', 'attachments'], what);
  assert.equal(typeof m.id, 'string', `${what}.id`);
  assert.equal(typeof m.chatId, 'string', `${what}.chatId`);
  assert.ok(Number.isInteger(m.seq) && m.seq >= 1, `${what}.seq must be a positive integer: ${short(m.seq)}`);
  assertUserRef(m.sender, `${what}.sender`);
  assert.equal(typeof m.text, 'string', `${what}.text`);
  if (m.replyTo !== null) {
    hasKeys(m.replyTo, ['id', 'seq', 'text', 'sender'], `${what}.replyTo`);
    assert.equal(typeof m.replyTo.id, 'string');
    assert.ok(Number.isInteger(m.replyTo.seq));
    assert.equal(typeof m.replyTo.text, 'string');
    assertUserRef(m.replyTo.sender, `${what}.replyTo.sender`);
  }
  assert.ok(m.clientId === null || typeof m.clientId === 'string', `${what}.clientId`);
  assertIso(m.createdAt, `${what}.createdAt`);
  assertIsoOrNull(m.editedAt, `${what}.editedAt`);
  assert.equal(typeof m.deleted, 'boolean', `${what}.deleted`);
  if (m.deleted) assert.equal(m.text, '', `${what}: a deleted message has text ""`);
  assert.ok(Array.isArray(m.reactions), `${what}.reactions must be an array: ${short(m.reactions)}`);
  for (const r of m.reactions) {
    hasKeys(r, ['emoji', 'count', 'userIds'], `${what}.reactions[]`);
    assert.ok(Array.isArray(r.userIds) && r.count === r.userIds.length && r.count > 0, `${what}.reactions[]: ${short(r)}`);
  }
  if (m.deleted) assert.deepEqual(m.reactions, [], `${what}: a deleted message has no reactions`);
  assert.ok(Array.isArray(m.mentions), `${what}.mentions must be an array: ${short(m.mentions)}`);
  for (const id of m.mentions) assert.match(id, HEX24, `${what}.mentions holds user ids: ${short(m.mentions)}`);
  assert.equal(new Set(m.mentions).size, m.mentions.length, `${what}.mentions lists each user once: ${short(m.mentions)}`);
  assert.ok(!m.mentions.includes(m.sender.id), `${what}.mentions never holds the sender: ${short(m.mentions)}`);
  if (m.deleted) assert.deepEqual(m.mentions, [], `${what}: a deleted message has no mentions`);
  assert.ok(Array.isArray(m.attachments), `${what}.attachments must be an array: ${short(m.attachments)}`);
  for (const a of m.attachments) assertAttachment(a, `${what}.attachments[]`);
  if (m.deleted) assert.deepEqual(m.attachments, [], `${what}: a deleted message has no attachments`);
}

/** PROTOCOL.md `Attachment`. */
export function assertAttachment(a, what = 'Attachment') {
  hasKeys(a, ['id', 'name', 'size', 'contentType', 'url'], what);
  assert.match(a.id, HEX24, `${what}.id`);
  assert.ok(typeof a.name === 'string' && a.name.length > 0, `${what}.name: ${short(a.name)}`);
  assert.ok(Number.isInteger(a.size) && a.size >= 0, `${what}.size: ${short(a.size)}`);
  assert.equal(typeof a.contentType, 'string', `${what}.contentType`);
  assert.match(a.url, new RegExp(`^/uploads/${a.id}\\?exp=\\d+&sig=[A-Za-z0-9_-]+$`), `${what}.url`);
}

/** PROTOCOL.md `Chat`. */
export function assertChat(c, what = 'Chat') {
  hasKeys(c, ['id', 'type', 'name', 'participants', 'admins', 'createdBy', 'createdAt', 'lastActivity',
    'lastSeq', 'lastMessage', 'unreadCount', 'readSeq', 'mutedUntil', 'unreadMentions'], what);
  assert.equal(typeof c.id, 'string', `${what}.id`);
  assert.ok(c.type === 'direct' || c.type === 'group', `${what}.type: ${c.type}`);
  assert.ok(c.name === null || typeof c.name === 'string', `${what}.name`);
  assert.ok(Array.isArray(c.participants), `${what}.participants must be an array`);
  c.participants.forEach((p, i) => assertUser(p, `${what}.participants[${i}]`));
  assert.ok(Array.isArray(c.admins), `${what}.admins must be an array`);
  for (const a of c.admins) assert.equal(typeof a, 'string', `${what}.admins entries are ids`);
  assert.equal(typeof c.createdBy, 'string', `${what}.createdBy`);
  assertIso(c.createdAt, `${what}.createdAt`);
  assertIso(c.lastActivity, `${what}.lastActivity`);
  assert.ok(Number.isInteger(c.lastSeq) && c.lastSeq >= 0, `${what}.lastSeq: ${short(c.lastSeq)}`);
  if (c.lastMessage !== null) assertMessage(c.lastMessage, `${what}.lastMessage`);
  assert.ok(Number.isInteger(c.unreadCount) && c.unreadCount >= 0, `${what}.unreadCount: ${short(c.unreadCount)}`);
  assert.ok(Number.isInteger(c.readSeq) && c.readSeq >= 0, `${what}.readSeq: ${short(c.readSeq)}`);
  assert.ok(Number.isInteger(c.unreadMentions) && c.unreadMentions >= 0 && c.unreadMentions <= c.unreadCount,
    `${what}.unreadMentions: ${short(c.unreadMentions)} (unreadCount ${short(c.unreadCount)})`);
  assertIsoOrNull(c.mutedUntil, `${what}.mutedUntil`);
}

export const ids = (list) => list.map((x) => x.id);
export const sortedIds = (list) => list.map((x) => (typeof x === 'string' ? x : x.id)).sort();

/** Resolves/rejects like `promise`, or rejects with `message()` after `ms`. */
export function withTimeout(promise, ms, message) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(typeof message === 'function' ? message() : message)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}
