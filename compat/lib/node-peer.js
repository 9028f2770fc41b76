// A Node.js Socket.IO 4.8 node with the classic @socket.io/redis-adapter 8.x
// (createAdapter(pubClient, subClient) on node-redis v4): the kind of node a Parley node
// replaces in a running cluster. Run as a child process by lib/peer.js:
//   PORT=<port> REDIS_URL=redis://... node lib/node-peer.js
// Prints `ready <port>` on stdout once it listens and its Redis subscriptions are in place.
//
// Handshake: io(url, { auth: { userId, rooms? } }); the socket joins `user:<userId>` and
// the listed rooms (Parley's room names are `user:<id>` and `chat:<id>`).
//
// Control (JSON over HTTP on the same port; every answer is JSON):
//   POST /emit  { to: room | room[], except?: room | room[], event, payload }
//                                     io.to(to).except(except).emit(event, payload)
//                                     (to: [] is every socket, like io.emit())
//   POST /join  { in: room, rooms }   io.in(in).socketsJoin(rooms)
//   POST /leave { in: room, rooms }   io.in(in).socketsLeave(rooms)
//   GET  /local                       { sockets: [{ id, userId, rooms }] } of this node
//   POST /fetch { in: room }          { sockets: [{ id, rooms }] }: io.in(in).fetchSockets(),
//                                     i.e. cluster-wide, asking the other nodes over Redis
import http from 'node:http';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';

const port = Number(process.env.PORT);
const redisUrl = process.env.REDIS_URL;
if (!port || !redisUrl) {
  console.error('node-peer: PORT and REDIS_URL are required');
  process.exit(2);
}

const pubClient = createClient({ url: redisUrl });
const subClient = pubClient.duplicate();
for (const c of [pubClient, subClient]) c.on('error', (err) => console.error(`node-peer redis: ${err.message}`));
await Promise.all([pubClient.connect(), subClient.connect()]);
const subId = await subClient.clientId(); // before the adapter puts it in subscribed state

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function body(req) {
  let s = '';
  for await (const chunk of req) s += chunk;
  return s ? JSON.parse(s) : {};
}

const roomsOf = (s) => [...s.rooms];

async function control(req, res) {
  const reply = (status, obj) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(obj));
  };
  try {
    const url = new URL(req.url, 'http://x');
    const b = req.method === 'POST' ? await body(req) : {};
    switch (`${req.method} ${url.pathname}`) {
      case 'POST /emit': {
        let op = io.to(b.to);
        if (b.except !== undefined) op = op.except(b.except);
        op.emit(b.event, b.payload);
        return reply(200, { ok: true });
      }
      case 'POST /join':
        io.in(b.in).socketsJoin(b.rooms);
        return reply(200, { ok: true });
      case 'POST /leave':
        io.in(b.in).socketsLeave(b.rooms);
        return reply(200, { ok: true });
      case 'GET /local':
        return reply(200, { sockets: [...io.of('/').sockets.values()].map((s) => ({ id: s.id, userId: s.data.userId, rooms: roomsOf(s) })) });
      case 'POST /fetch': {
        const sockets = await io.in(b.in).fetchSockets();
        return reply(200, { sockets: sockets.map((s) => ({ id: s.id, rooms: roomsOf(s) })) });
      }
      default:
        return reply(404, { error: `no route ${req.method} ${url.pathname}` });
    }
  } catch (err) {
    return reply(500, { error: err.message });
  }
}

const httpServer = http.createServer(control);
const io = new Server(httpServer, { adapter: createAdapter(pubClient, subClient) });

io.use((socket, next) => {
  const { userId, rooms = [] } = socket.handshake.auth ?? {};
  if (typeof userId !== 'string' || userId === '' || !Array.isArray(rooms)) {
    const err = new Error('UNAUTHORIZED');
    err.data = { code: 'UNAUTHORIZED' };
    return next(err);
  }
  socket.data.userId = userId;
  socket.data.rooms = rooms.map(String);
  return next();
});

io.on('connection', (socket) => {
  socket.join([`user:${socket.data.userId}`, ...socket.data.rooms]);
});

await new Promise((resolve, reject) => {
  httpServer.once('error', reject);
  httpServer.listen(port, '127.0.0.1', resolve);
});

// The adapter subscribes without letting us await it: wait until Redis reports the
// subscriber connection's pattern (socket.io#/#*) and channels (request, response,
// specific response) before announcing readiness.
for (let i = 0; ; i++) {
  const info = String(await pubClient.sendCommand(['CLIENT', 'LIST', 'ID', String(subId)]));
  const sub = Number(/ sub=(\d+)/.exec(info)?.[1] ?? 0);
  const psub = Number(/ psub=(\d+)/.exec(info)?.[1] ?? 0);
  if (sub >= 3 && psub >= 1) break;
  if (i > 200) throw new Error(`node-peer: adapter subscriptions not in place: ${info}`);
  await sleep(25);
}
process.stdout.write(`ready ${port}\n`);

let closing = false;
process.on('SIGTERM', async () => {
  if (closing) return;
  closing = true;
  void io.close(); // closes the sockets and the adapter (unsubscribes)
  await Promise.allSettled([pubClient.disconnect(), subClient.disconnect()]);
  process.exit(0);
});
