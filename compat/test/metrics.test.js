// The metrics of README "Operations": each monitoring point answers on /metrics and moves
// with what it measures.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mongoMode, startServer, stopServer } from '../lib/server.js';
import { startCluster } from '../lib/cluster.js';
import { newUsers } from '../lib/fixtures.js';

async function scrape(node) {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const values = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    values.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return values;
}

const value = (m, name) => {
  assert.ok(m.has(name), `/metrics has no ${name}`);
  return m.get(name);
};
const sum = (m, prefix) => [...m].filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0);

describe('metrics on one node', () => {
  let srv;
  before(async () => { srv = await startServer(); });
  after(async () => { await stopServer(srv); });

  test('connections, events by code, latency, store operations, reconnections, memory and CPU', async () => {
    const [a, b] = await newUsers(srv, 2);
    const before = await scrape(srv);
    const a1 = await a.connect();
    const b1 = await b.connect();
    const { chat } = await a1.ok('chat:create', { type: 'direct', participantId: b.id });
    for (let i = 0; i < 5; i++) await a1.ok('message:new', { chatId: chat.id, text: `m${i}` });
    await a1.ack('message:new', { chatId: chat.id, text: '' }); // VALIDATION_ERROR
    await a1.ack('chat:get', { chatId: 'ffffffffffffffffffffffff' }); // NOT_FOUND
    let m = await scrape(srv);
    assert.equal(value(m, 'parley_connected_sockets'), 2);
    assert.equal(value(m, 'parley_events_total{code="OK",event="message:new"}') - (before.get('parley_events_total{code="OK",event="message:new"}') ?? 0), 5);
    assert.ok(value(m, 'parley_events_total{code="VALIDATION_ERROR",event="message:new"}') >= 1);
    assert.ok(value(m, 'parley_events_total{code="NOT_FOUND",event="chat:get"}') >= 1);
    assert.ok(value(m, 'parley_event_duration_seconds_count{event="message:new"}') >= 6);
    assert.ok(value(m, 'parley_event_duration_seconds_bucket{event="message:new",le="+Inf"}') >= 6);
    assert.ok(value(m, 'parley_store_op_duration_seconds_count{op="InsertMessage"}') >= 5);
    assert.ok(value(m, 'parley_store_op_duration_seconds_count{op="CreateChat"}') >= 1);
    for (const name of ['process_resident_memory_bytes', 'process_cpu_seconds_total', 'go_memstats_heap_alloc_bytes',
      'go_goroutines', 'parley_slow_consumers_total', 'parley_flood_disconnects_total', 'parley_engine_sessions']) {
      value(m, name);
    }
    // b drops and comes back: one reconnection.
    const reconnects = value(m, 'parley_reconnections_total');
    b1.close();
    for (let i = 0; i < 100 && (await scrape(srv)).get('parley_connected_sockets') !== 1; i++) await new Promise((r) => setTimeout(r, 20));
    const b2 = await b.connect();
    m = await scrape(srv);
    assert.equal(value(m, 'parley_reconnections_total') - reconnects, 1);
    assert.ok(sum(m, 'parley_events_total{') > 0);
    a1.close(); b2.close();
  });
});

describe('metrics of the cluster bus', { skip: mongoMode && 'several nodes need a real MongoDB' }, () => {
  let cluster;
  before(async () => { cluster = await startCluster(); });
  after(async () => { await cluster.stop(); });

  test('bus state, publish queue depth and counters; the state follows Redis', async () => {
    const [n1] = cluster.nodes;
    let m = await scrape(n1);
    assert.equal(value(m, 'parley_bus_connected'), 1);
    assert.equal(value(m, 'parley_bus_queue_depth'), 0);
    assert.ok(value(m, 'parley_bus_published_total') >= 0);
    value(m, 'parley_bus_dropped_total');
    value(m, 'parley_bus_received_total');
    await cluster.redis.stop();
    for (let i = 0; i < 100 && (await scrape(n1)).get('parley_bus_connected') !== 0; i++) await new Promise((r) => setTimeout(r, 50));
    m = await scrape(n1);
    assert.equal(value(m, 'parley_bus_connected'), 0);
    await cluster.redis.start({ samePort: true });
    for (let i = 0; i < 100 && (await scrape(n1)).get('parley_bus_connected') !== 1; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(value(await scrape(n1), 'parley_bus_connected'), 1);
  });
});
