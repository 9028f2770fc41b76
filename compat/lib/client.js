// socket.io-client wrapper: connect, acks, and an inbox that records every server event
// from the moment the socket is created, so no event is missed between an action and the
// wait for its broadcast.
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';

let seq = 0;

export class Client {
  constructor(socket, server, label) {
    this.socket = socket;
    this.server = server;
    this.label = label ?? `client#${++seq}`;
    this.events = []; // { name, payload, args, consumed }
    this.waiters = [];
    this.ackLog = new Map(); // ack packet id -> number of ack packets received with that id
    this.ackArgCounts = []; // number of arguments of each ack packet
    socket.onAny((name, ...args) => this.#record(name, args));
    this.disconnectReason = null;
    socket.on('disconnect', (reason, details) => {
      this.disconnectReason = details?.description?.message ? `${reason}: ${details.description.message}` : reason;
    });
    // Count ack packets by id (socket.io-client silently drops a second ack for an id).
    const onack = socket.onack.bind(socket);
    socket.onack = (packet) => {
      this.ackLog.set(packet.id, (this.ackLog.get(packet.id) ?? 0) + 1);
      this.ackArgCounts.push(Array.isArray(packet.data) ? packet.data.length : -1);
      return onack(packet);
    };
    server?.clients.add(this);
  }

  #record(name, args) {
    const ev = { name, payload: args[0], args, consumed: false, at: Date.now() };
    this.events.push(ev);
    for (const w of this.waiters) {
      if (!ev.consumed && w.name === name && w.pred(ev.payload)) {
        ev.consumed = true;
        w.resolve(ev.payload);
      }
    }
    this.waiters = this.waiters.filter((w) => !w.done());
  }

  get id() { return this.socket.id; }

  /**
   * Emits `event` with `payload` and an ack; resolves with the ack's single argument.
   * Asserts the ack came with exactly one argument (PROTOCOL.md: "called exactly once with
   * either {success:true,...} or {success:false,...}").
   */
  ack(event, payload, timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      this.socket.timeout(timeoutMs).emit(event, payload, (err, ...args) => {
        if (err) {
          const why = this.socket.connected ? `within ${timeoutMs} ms` : `(socket disconnected: ${this.disconnectReason ?? err.message})`;
          reject(new Error(`${this.label}: no ack for ${event} ${short(payload)} ${why}`));
          return;
        }
        if (args.length !== 1) {
          reject(new Error(`${this.label}: ack for ${event} had ${args.length} arguments: ${short(args)}`));
          return;
        }
        resolve(args[0]);
      });
    });
  }

  /** Like ack() but asserts success and returns the ack object. */
  async ok(event, payload, timeoutMs) {
    const res = await this.ack(event, payload, timeoutMs);
    assert.equal(res?.success, true, `${this.label}: ${event} ${short(payload)} failed: ${short(res)}`);
    return res;
  }

  /**
   * Resolves with the payload of the first not yet consumed `name` event matching `pred`
   * (already received or still to come) and marks it consumed.
   */
  next(name, pred = () => true, timeoutMs = 5000) {
    for (const ev of this.events) {
      if (!ev.consumed && ev.name === name && pred(ev.payload)) {
        ev.consumed = true;
        return Promise.resolve(ev.payload);
      }
    }
    const p = new Promise((resolve, reject) => {
      let finished = false;
      const timer = setTimeout(() => {
        finished = true;
        const seen = this.events.map((e) => e.name).join(', ') || 'nothing';
        reject(new Error(`${this.label}: timed out after ${timeoutMs} ms waiting for '${name}'${pred.label ? ` (${pred.label})` : ''}; received so far: ${seen}`));
      }, timeoutMs);
      this.waiters.push({
        name,
        pred,
        done: () => finished,
        resolve: (v) => { finished = true; clearTimeout(timer); resolve(v); },
      });
    });
    // A wait abandoned by a test that already failed must not surface later as an
    // unhandled rejection; awaiting `p` still throws.
    p.catch(() => {});
    return p;
  }

  /** Every received `name` payload matching `pred`, consumed or not. */
  received(name, pred = () => true) {
    return this.events.filter((e) => e.name === name && pred(e.payload)).map((e) => e.payload);
  }

  /** Ack ids answered more than once (should always be empty). */
  duplicateAcks() {
    return [...this.ackLog].filter(([, n]) => n > 1).map(([id]) => id);
  }

  close() {
    this.socket.disconnect();
    this.server?.clients.delete(this);
  }
}

export function short(v, max = 300) {
  let s;
  try { s = JSON.stringify(v); } catch { s = String(v); }
  if (s === undefined) s = String(v);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

function makeSocket(server, token, opts) {
  const { transports = ['websocket'], auth, ...rest } = opts;
  return io(server.url, {
    auth: auth ?? (token != null ? { token } : undefined),
    transports,
    forceNew: true,
    reconnection: false,
    timeout: 10_000,
    ...rest,
  });
}

/**
 * Connects with `token` (auth.token unless opts.auth is given); resolves with a Client on
 * `connect`, rejects with the connect_error.
 * opts: transports (default ['websocket']), auth, query, extraHeaders, label, ...io options
 */
export function connect(server, token, opts = {}) {
  const { label, ...ioOpts } = opts;
  const socket = makeSocket(server, token, ioOpts);
  const client = new Client(socket, server, label);
  return new Promise((resolve, reject) => {
    const onConnect = () => { socket.off('connect_error', onError); resolve(client); };
    const onError = (err) => {
      socket.off('connect', onConnect);
      client.close();
      reject(err);
    };
    socket.once('connect', onConnect);
    socket.once('connect_error', onError);
  });
}

/** Expects the handshake to be refused: resolves with the connect_error, rejects on connect. */
export async function connectError(server, token, opts = {}) {
  try {
    const c = await connect(server, token, opts);
    c.close();
  } catch (err) {
    return err;
  }
  throw new Error(`handshake was accepted but should have been refused (${short(opts.auth ?? opts.query ?? opts.extraHeaders ?? token)})`);
}

/** Bare helpers in the style of the brief. */
export const emitAck = (client, event, payload, timeoutMs = 5000) => client.ack(event, payload, timeoutMs);
export const nextEvent = (client, name, predicate, timeoutMs = 5000) => client.next(name, predicate, timeoutMs);
