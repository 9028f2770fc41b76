// Redis stopped, restarted empty, or frozen (SIGSTOP) for 10 s under traffic, two Parley
// nodes: no node crashes; messages between sockets of the same node keep being acked and
// delivered at normal latency; /readyz names redis within 2 s; cross-node delivery resumes
// by itself within 5 s of Redis answering again.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mongoMode } from '../lib/server.js';
import { newUsers } from '../lib/fixtures.js';
import { startCluster } from '../lib/cluster.js';
import { connect } from '../lib/client.js';

const OUTAGE_MS = 10_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function readyz(node) {
  const res = await fetch(`${node.url}/readyz`, { signal: AbortSignal.timeout(3000) });
  return { status: res.status, body: await res.json() };
}

describe('Redis faults with two nodes', { skip: mongoMode && 'several nodes need a real MongoDB: FerretDB updates are not atomic across processes' }, () => {
  let cluster;
  let n1;
  let n2;
  before(async () => {
    cluster = await startCluster();
    [n1, n2] = cluster.nodes;
  });
  after(async () => { await cluster.stop(); });

  // a and c on node 1, b on node 2, all in one group.
  async function group() {
    const [a, b, c] = await newUsers(n1, 3);
    const a1 = await connect(n1, a.token, { label: 'a@n1' });
    const c1 = await connect(n1, c.token, { label: 'c@n1' });
    const b2 = await connect(n2, b.token, { label: 'b@n2' });
    const { chat } = await a1.ok('chat:create', { type: 'group', name: 'faults', participantIds: [b.id, c.id] });
    await Promise.all([c1.next('chat:new', (p) => p?.chat?.id === chat.id), b2.next('chat:new', (p) => p?.chat?.id === chat.id)]);
    const text = `before ${Date.now()}`;
    const toB = b2.next('message:new', (p) => p?.message?.text === text);
    await a1.ok('message:new', { chatId: chat.id, text });
    await toB;
    return { a1, b2, c1, chat };
  }

  // Sends from a for the whole outage, one every 100 ms; each must be acked and reach c
  // (same node) quickly. Returns the ack latencies.
  async function trafficDuring(ms, { a1, c1, chat }) {
    const latencies = [];
    const end = Date.now() + ms;
    for (let i = 0; Date.now() < end; i++) {
      const text = `during ${i} ${Date.now()}`;
      const toC = c1.next('message:new', (p) => p?.message?.text === text, 2000);
      const t0 = Date.now();
      const res = await a1.ack('message:new', { chatId: chat.id, text }, 2000);
      latencies.push(Date.now() - t0);
      assert.equal(res.success, true, `send ${i} during the outage: ${JSON.stringify(res)}`);
      await toC;
      await sleep(100);
    }
    return latencies.sort((x, y) => x - y);
  }

  async function readinessFlips(node) {
    const t0 = Date.now();
    for (;;) {
      const r = await readyz(node);
      if (r.status === 503) {
        assert.ok(r.body.failing.includes('redis'), `/readyz names redis: ${JSON.stringify(r.body)}`);
        return Date.now() - t0;
      }
      if (Date.now() - t0 > 2000) assert.fail(`/readyz still ${r.status} ${Date.now() - t0} ms into the outage`);
      await sleep(50);
    }
  }

  // Cross-node delivery is back: a message from a reaches b, within 5 s.
  async function resumes({ a1, b2, chat }) {
    const t0 = Date.now();
    for (;;) {
      const text = `after ${Date.now()}`;
      const toB = b2.next('message:new', (p) => p?.message?.text === text, 300).then(() => true, () => false);
      await a1.ok('message:new', { chatId: chat.id, text });
      if (await toB) return Date.now() - t0;
      assert.ok(Date.now() - t0 < 5000, 'cross-node delivery did not resume within 5 s');
    }
  }

  for (const fault of ['stopped and restarted empty', 'frozen']) {
    test(`Redis ${fault} for ${OUTAGE_MS / 1000} s under traffic`, async (t) => {
      const g = await group();
      const logBefore = n1.stderr().length;
      const [ready] = await Promise.all([
        (async () => { await sleep(10); return readinessFlips(n1); })(),
        (async () => {
          if (fault === 'frozen') cluster.redis.freeze();
          else await cluster.redis.stop();
        })(),
      ]);
      const latencies = await trafficDuring(OUTAGE_MS, g);
      const p99 = latencies[Math.floor(latencies.length * 0.99)];
      assert.ok(p99 < 200, `same-node ack p99 during the outage ${p99} ms (${latencies.length} sends)`);
      if (fault === 'frozen') cluster.redis.thaw();
      else await cluster.redis.start({ samePort: true });
      const back = await resumes(g);
      for (const n of [n1, n2]) assert.ok(n.alive, 'a node exited');
      const t0 = Date.now();
      while ((await readyz(n1)).status !== 200) {
        assert.ok(Date.now() - t0 < 5000, '/readyz did not recover');
        await sleep(50);
      }
      // A fault is logged once per change of state, not once per attempt.
      const lines = n1.stderr().slice(logBefore).split('\n').filter((l) => /redis/i.test(l));
      assert.ok(lines.length <= 6, `${lines.length} log lines about Redis during the outage:\n${lines.slice(0, 10).join('\n')}`);
      t.diagnostic(`readyz flipped after ${ready} ms; cross-node back after ${back} ms; ack p99 ${p99} ms; ${lines.length} log lines`);
      for (const c of [g.a1, g.b2, g.c1]) c.close();
    });
  }
});
