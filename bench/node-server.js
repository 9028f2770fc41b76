// The bare Node.js socket.io v4 chat server Parley is compared against in the e2e, open and
// idle scenarios of scripts/bench.sh ("Node bare"; bench/node-sqlite-server.js is the same
// with a SQLite write per message).
//
// It does the broadcast shape of Parley's message:new and nothing else:
//   - handshake auth: `auth.token` is required (refused with UNAUTHORIZED otherwise) and
//     turned into a user by a trivial in-memory lookup (any token is accepted: a user is
//     made up for it the first time it is seen);
//   - on connection the socket joins `user:<id>` and `chat:<room>` for each room named in
//     `auth.rooms` (an array of strings), as Parley joins a user's room and chat rooms;
//   - `message:new {chatId, text, clientId?}` with an ack: checks the socket is in the
//     room, builds a message object shaped like Parley's Message with an incrementing
//     per-room seq, emits `message:new {message}` to the room except the sender, acks
//     `{success:true, message}`.
// There is NO database: Parley makes a durable SQLite write per message (group commit),
// this server keeps a counter in memory, so this comparison is conservative for Parley.
//
// Env: PORT (0 = any free port), HOST (127.0.0.1). Prints `listening <port>` on stdout.
'use strict';

const http = require('node:http');
const crypto = require('node:crypto');
const { Server } = require('socket.io');

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST || '127.0.0.1';

const httpServer = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
    return;
  }
  res.writeHead(404);
  res.end();
});

const io = new Server(httpServer, {
  // socket.io defaults otherwise (websocket + polling, no per-message deflate), like Parley.
  serveClient: false,
});

// token -> user: the "trivial lookup" standing in for JWT verification + a user cache.
const users = new Map();
let nextUser = 0;
function userFor(token) {
  let u = users.get(token);
  if (!u) {
    nextUser++;
    const id = crypto.randomBytes(12).toString('hex');
    u = { id, handle: `user${nextUser}`, name: `User ${nextUser}`, image: null };
    users.set(token, u);
  }
  return u;
}

// room -> last seq, as Parley's per-chat seq.
const seqs = new Map();
let idCounter = 0;
const idPrefix = crypto.randomBytes(8).toString('hex');
// A 24-hex id, unique per process (ObjectId-shaped like Parley's).
function newID() {
  idCounter++;
  return idPrefix + idCounter.toString(16).padStart(8, '0');
}

io.use((socket, next) => {
  const token = socket.handshake.auth?.token;
  if (typeof token !== 'string' || token === '') {
    const err = new Error('UNAUTHORIZED');
    err.data = { code: 'UNAUTHORIZED' };
    next(err);
    return;
  }
  socket.data.user = userFor(token);
  next();
});

io.on('connection', (socket) => {
  const user = socket.data.user;
  socket.join(`user:${user.id}`);
  const rooms = socket.handshake.auth?.rooms;
  if (Array.isArray(rooms)) {
    for (const r of rooms) if (typeof r === 'string' && r) socket.join(`chat:${r}`);
  }

  socket.on('message:new', (payload, ack) => {
    if (typeof ack !== 'function') return;
    const chatId = payload?.chatId;
    const text = typeof payload?.text === 'string' ? payload.text.trim() : '';
    if (typeof chatId !== 'string' || !socket.rooms.has(`chat:${chatId}`)) {
      ack({ success: false, error: 'chat not found', code: 'NOT_FOUND' });
      return;
    }
    if (text.length === 0 || text.length > 4000) {
      ack({ success: false, error: 'text: must be 1 to 4000 characters', code: 'VALIDATION_ERROR' });
      return;
    }
    const seq = (seqs.get(chatId) ?? 0) + 1;
    seqs.set(chatId, seq);
    const message = {
      id: newID(),
      chatId,
      seq,
      sender: { id: user.id, handle: user.handle, name: user.name, image: user.image },
      text,
      replyTo: null,
      clientId: typeof payload.clientId === 'string' ? payload.clientId : null,
      createdAt: new Date().toISOString(),
      editedAt: null,
      deleted: false,
    };
    socket.to(`chat:${chatId}`).emit('message:new', { message });
    ack({ success: true, message });
  });
});

httpServer.listen(port, host, () => {
  process.stdout.write(`listening ${httpServer.address().port}\n`);
});

function stop() {
  io.close();
  httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
