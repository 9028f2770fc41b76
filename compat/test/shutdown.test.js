// Graceful shutdown (README "Shutdown"): on SIGTERM a node answers /readyz 503 at once,
// refuses new sessions, finishes and acknowledges every event it had received (later ones
// are answered UNAVAILABLE), closes its sockets so clients reconnect elsewhere, runs the
// departure bookkeeping (presence, lastSeen, notifications for messages that raced the
// close) and exits 0 within SHUTDOWN_TIMEOUT_MS.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mongoMode, startServer, stopServer } from '../lib/server.js';
import { startCluster } from '../lib/cluster.js';
import { connect, connectError } from '../lib/client.js';
import { newUsers } from '../lib/fixtures.js';
import { befriend, presenceOf } from '../lib/social.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('SIGTERM with sends in flight', { skip: mongoMode && 'restarts on the same SQLite file' }, () => {
  const servers = [];
  after(async () => { for (const s of servers) await stopServer(s); });

  test('every event received before the drain is acknowledged; nothing is committed unacknowledged; departures are recorded', { timeout: 90_000 }, async (t) => {
    let srv = await startServer();
    servers.push(srv);
    const [a, b, c] = await newUsers(srv, 3);
    const ids = { a: a.id, b: b.id, c: c.id };
    let chatId;
    const acked = new Map(); // clientId -> message id
    let unavailable = 0;
    let noAck = 0;
    for (let round = 0; round < 3; round++) {
      const a1 = await connect(srv, a.token);
      const b1 = await connect(srv, b.token);
      if (!chatId) chatId = (await a1.ok('chat:create', { type: 'group', name: 'drain', participantIds: [ids.b, ids.c] })).chat.id;
      const sends = [];
      for (let i = 0; i < 100; i++) {
        const clientId = `r${round}-${i}`;
        sends.push(a1.ack('message:new', { chatId, text: `round ${round} #${i}`, clientId }, 8000).then(
          (res) => {
            if (res.success) acked.set(clientId, res.message.id);
            else { assert.equal(res.code, 'UNAVAILABLE', JSON.stringify(res)); unavailable++; }
          },
          () => { noAck++; }, // sent after the transport closed: never reached the server
        ));
        if (i === 10) await sends[0];
      }
      const sigterm = Date.now();
      const exit = await srv.stop({ closeClients: false });
      assert.deepEqual(exit, { code: 0, signal: null }, `exit: ${JSON.stringify(exit)}; stderr:\n${srv.stderr()}`);
      t.diagnostic(`round ${round}: exit ${Date.now() - sigterm} ms after SIGTERM`);
      assert.ok(Date.now() - sigterm < 10_000, 'exited within SHUTDOWN_TIMEOUT_MS');
      await Promise.all(sends);
      await new Promise((r) => (b1.socket.connected ? b1.socket.once('disconnect', r) : r()));
      assert.equal(b1.disconnectReason, 'transport close', 'clients see a transport close (and would reconnect)');

      srv = await startServer({ dataDir: srv.dataDir });
      servers.push(srv);
    }
    // What the store holds is exactly what was acknowledged.
    const a2 = await connect(srv, a.token);
    const stored = new Map();
    let after = 0;
    for (;;) {
      const page = await a2.ok('message:list', { chatId, limit: 100, after });
      for (const m of page.messages) stored.set(m.clientId, m.id);
      if (!page.hasMore || page.messages.length === 0) break;
      after = page.messages.at(-1).seq;
    }
    const unacked = [...stored.keys()].filter((k) => !acked.has(k));
    const lost = [...acked.keys()].filter((k) => stored.get(k) !== acked.get(k));
    assert.deepEqual(unacked, [], `committed but never acknowledged (acked ${acked.size}, UNAVAILABLE ${unavailable}, no ack ${noAck})`);
    assert.deepEqual(lost, [], 'acknowledged but not stored');
    assert.ok(acked.size >= 3 * 11, `acked ${acked.size}`);
    t.diagnostic(`acked ${acked.size}, UNAVAILABLE ${unavailable}, never reached the server ${noAck}`);

    // b was connected when each node stopped: its lastSeen was stored, and the messages
    // that reached it in the last moment before the close are covered by a notification.
    const { presence } = await a2.ok('presence:get', { userIds: [ids.b] });
    assert.equal(presence[0].online, false);
    assert.notEqual(presence[0].lastSeen, null, 'lastSeen stored at shutdown');
    const b2 = await connect(srv, b.token);
    const { notifications } = await b2.ok('notification:list', {});
    assert.ok(notifications.some((n) => n.type === 'message' && n.data.chatId === chatId), `b's notifications ${JSON.stringify(notifications)}`);
    a2.close(); b2.close();
  });
});

describe('SIGTERM on one node of a cluster', { skip: mongoMode && 'several nodes need a real MongoDB' }, () => {
  let cluster;
  after(async () => { await cluster?.stop(); });

  test('/readyz 503 at once, new sessions refused, a user who moves to another node is never shown offline, one who does not is', { timeout: 60_000 }, async (t) => {
    cluster = await startCluster({ env: { PRESENCE_GRACE_MS: 1500 } });
    const [n1, n2] = cluster.nodes;
    const [x, y, f] = await newUsers(n1, 3);
    const x1 = await connect(n1, x.token);
    const y1 = await connect(n1, y.token);
    const f2 = await connect(n2, f.token);
    await befriend(f2, x1, x.id);
    await befriend(f2, y1, y.id);

    const sigterm = Date.now();
    const stopped = n1.stop({ closeClients: false });
    // Readiness turns at once, before the listener goes.
    let status;
    for (let i = 0; i < 100; i++) {
      status = await fetch(`${n1.url}/readyz`).then((r) => r.status, (e) => e.cause?.code ?? e.message);
      if (status !== 200) break;
      await sleep(5);
    }
    assert.equal(status, 503, `/readyz after SIGTERM: ${status}`);
    const refused = await connectError(n1, f.token);
    assert.ok(refused, 'a new session is refused while the node drains');

    // x's client reconnects (a load balancer sends it to n2); y's does not.
    await new Promise((r) => (x1.socket.connected ? x1.socket.once('disconnect', r) : r()));
    assert.equal(x1.disconnectReason, 'transport close');
    const x2 = await connect(n2, x.token);
    const offY = await f2.next('presence:update', presenceOf(y.id, false), 10_000).catch(async (err) => {
      await stopped;
      throw new Error(`${err.message}\nn1's log:\n${n1.stderr()}`);
    });
    assert.notEqual(offY.lastSeen, null);
    const exit = await stopped;
    assert.deepEqual(exit, { code: 0, signal: null }, `exit: ${JSON.stringify(exit)}; stderr:\n${n1.stderr()}`);
    t.diagnostic(`the node exited ${Date.now() - sigterm} ms after SIGTERM`);
    assert.ok(Date.now() - sigterm < 10_000);
    assert.equal(f2.received('presence:update', presenceOf(x.id, false)).length, 0, 'x, who moved to n2, was shown offline');
    const { presence } = await f2.ok('presence:get', { userIds: [x.id, y.id] });
    assert.deepEqual(presence.map((p) => p.online), [true, false]);
    x2.close(); f2.close();
  });
});
