// Helpers for the social-layer tests (friends, blocking, presence, typing, notifications).
import assert from 'node:assert/strict';
import { short } from './client.js';
import { assertIso, assertUser } from './fixtures.js';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const STATUSES = ['pending', 'accepted', 'declined', 'canceled'];
const NOTIFICATION_TYPES = ['message', 'friend:request', 'friend:accepted', 'chat:added'];

function isObj(v) { return v !== null && typeof v === 'object' && !Array.isArray(v); }

/** PROTOCOL.md `FriendRequest`. */
export function assertFriendRequest(r, what = 'FriendRequest') {
  assert.ok(isObj(r), `${what} must be an object: ${short(r)}`);
  for (const k of ['id', 'from', 'to', 'status', 'createdAt']) assert.ok(Object.hasOwn(r, k), `${what} lacks '${k}': ${short(r)}`);
  assert.equal(typeof r.id, 'string', `${what}.id`);
  assertUser(r.from, `${what}.from`);
  assertUser(r.to, `${what}.to`);
  assert.ok(STATUSES.includes(r.status), `${what}.status: ${short(r.status)}`);
  assertIso(r.createdAt, `${what}.createdAt`);
  return r;
}

/** Asserts a FriendRequest's parties and status. */
export function assertRequestIs(r, { id, from, to, status }, what = 'request') {
  assertFriendRequest(r, what);
  if (id !== undefined) assert.equal(r.id, id, `${what}.id`);
  if (from !== undefined) assert.equal(r.from.id, from, `${what}.from.id`);
  if (to !== undefined) assert.equal(r.to.id, to, `${what}.to.id`);
  if (status !== undefined) assert.equal(r.status, status, `${what}.status`);
  return r;
}

/** PROTOCOL.md `Notification`. */
export function assertNotification(n, what = 'Notification') {
  assert.ok(isObj(n), `${what} must be an object: ${short(n)}`);
  for (const k of ['id', 'type', 'data', 'read', 'createdAt']) assert.ok(Object.hasOwn(n, k), `${what} lacks '${k}': ${short(n)}`);
  assert.equal(typeof n.id, 'string', `${what}.id`);
  assert.ok(NOTIFICATION_TYPES.includes(n.type), `${what}.type: ${short(n.type)}`);
  assert.ok(isObj(n.data), `${what}.data must be an object: ${short(n.data)}`);
  assert.equal(typeof n.read, 'boolean', `${what}.read`);
  assertIso(n.createdAt, `${what}.createdAt`);
  if (n.type === 'message') {
    assert.equal(typeof n.data.chatId, 'string', `${what}.data.chatId: ${short(n.data)}`);
    assert.ok(Number.isInteger(n.data.count) && n.data.count >= 1, `${what}.data.count: ${short(n.data)}`);
    assert.equal(typeof n.data.lastMessageId, 'string', `${what}.data.lastMessageId: ${short(n.data)}`);
  }
  return n;
}

/** `{ notifications, unreadCount, nextCursor }` of notification:list. */
export function assertNotificationPage(res, what = 'notification:list') {
  assert.ok(Array.isArray(res.notifications), `${what}.notifications must be an array: ${short(res)}`);
  res.notifications.forEach((n, i) => assertNotification(n, `${what}.notifications[${i}]`));
  assert.ok(Number.isInteger(res.unreadCount) && res.unreadCount >= 0, `${what}.unreadCount: ${short(res.unreadCount)}`);
  assert.ok(Object.hasOwn(res, 'nextCursor'), `${what} lacks nextCursor: ${short(res)}`);
  assert.ok(res.nextCursor === null || typeof res.nextCursor === 'string', `${what}.nextCursor must be string|null: ${short(res.nextCursor)}`);
  return res;
}

/** `{ userId, online, lastSeen }` of presence:update and presence:get. */
export function assertPresence(p, what = 'presence') {
  assert.ok(isObj(p), `${what} must be an object: ${short(p)}`);
  for (const k of ['userId', 'online', 'lastSeen']) assert.ok(Object.hasOwn(p, k), `${what} lacks '${k}': ${short(p)}`);
  assert.equal(typeof p.userId, 'string', `${what}.userId`);
  assert.equal(typeof p.online, 'boolean', `${what}.online`);
  if (p.lastSeen !== null) assertIso(p.lastSeen, `${what}.lastSeen`);
  return p;
}

// ---- event predicates (labelled, so timeouts say what was awaited) ----

const labelled = (fn, label) => { fn.label = label; return fn; };
export const presenceOf = (userId, online) =>
  labelled((p) => p?.userId === userId && (online === undefined || p.online === online), `presence:update of ${userId}${online === undefined ? '' : ` online=${online}`}`);
export const requestIs = (id) => labelled((p) => p?.request?.id === id, `request ${id}`);
export const requestBetween = (from, to) => labelled((p) => p?.request?.from?.id === from && p?.request?.to?.id === to, `request ${from} -> ${to}`);
export const typingIn = (chatId, userId) =>
  labelled((p) => p?.chatId === chatId && (p?.user?.id === userId || p?.userId === userId), `typing in ${chatId} by ${userId}`);
export const textIs = (text) => labelled((p) => p?.message?.text === text, `message "${text}"`);
export const chatIs = (chatId) => labelled((p) => (p?.chat?.id ?? p?.chatId) === chatId, `chat ${chatId}`);

/** Like client.next(), also returning the local arrival time of the event. */
export async function nextAt(client, name, pred, timeoutMs = 5000) {
  const payload = await client.next(name, pred, timeoutMs);
  const ev = client.events.find((e) => e.payload === payload && e.name === name);
  return { payload, at: ev.at };
}

/** Index into client.events, for "nothing arrived since" checks. */
export const mark = (client) => client.events.length;
export const eventsSince = (client, m) => client.events.slice(m).map((e) => ({ name: e.name, payload: e.payload }));

// ---- friends ----

/** `aSock` (user a) asks `b`, `bSock` accepts; resolves with the accepted request. */
export async function befriend(aSock, bSock, bId) {
  const { request } = await aSock.ok('friend:request:send', { userId: bId });
  assert.equal(request.status, 'pending', `befriend: ${short(request)}`);
  const res = await bSock.ok('friend:request:accept', { requestId: request.id });
  assert.equal(res.request.status, 'accepted');
  return res.request;
}

// ---- server-side socket count (knowing that a disconnect has been processed) ----

/** The node's `parley_connected_sockets` gauge from GET /metrics. */
export async function connectedSockets(server) {
  const res = await fetch(`${server.url}/metrics`, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  const m = text.match(/^parley_connected_sockets(?:\{[^}]*\})?\s+([0-9.eE+-]+)\s*$/m);
  if (!m) throw new Error(`GET /metrics has no parley_connected_sockets gauge (status ${res.status})`);
  return Number(m[1]);
}

/**
 * Closes `clients` and resolves once their node reports the sockets gone (the gauge dropped
 * by their number), so that what the test does next happens after the server has
 * processed the disconnects. Use only while no other socket of that node connects or
 * disconnects concurrently.
 */
export async function closeSettled(server, ...clients) {
  const before = await connectedSockets(server);
  for (const c of clients) c.close();
  const deadline = Date.now() + 10_000;
  for (;;) {
    const n = await connectedSockets(server);
    if (n <= before - clients.length) return;
    if (Date.now() > deadline) throw new Error(`server still reports ${n} sockets (was ${before}) 10 s after closing ${clients.length}`);
    await sleep(10);
  }
}
