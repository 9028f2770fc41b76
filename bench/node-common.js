// What the Node.js servers of scripts/bench.sh share: the HTTP server with /healthz, the
// socket.io server (defaults: websocket + polling, no per-message deflate, like Parley),
// listening and stopping, and the chat protocol of Parley's message:new that
// node-server.js and node-sqlite-server.js both speak (they differ only in how a message
// is stored).
'use strict';

const http = require('node:http');
const crypto = require('node:crypto');
const { Server } = require('socket.io');

/** The HTTP server (GET /healthz → 200) with a socket.io server on it. */
function createServers() {
  const httpServer = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
      return;
    }
    res.writeHead(404);
    res.end();
  });
  const io = new Server(httpServer, { serveClient: false });
  return { httpServer, io };
}

/** Listens on PORT/HOST (0 = any free port), prints `listening <port>`; SIGTERM/SIGINT stop. */
function listen(httpServer, io, onClose = () => {}) {
  const port = Number(process.env.PORT ?? 0);
  const host = process.env.HOST || '127.0.0.1';
  httpServer.listen(port, host, () => {
    process.stdout.write(`listening ${httpServer.address().port}\n`);
  });
  const stop = () => {
    io.close();
    httpServer.close(() => {
      onClose();
      process.exit(0);
    });
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/**
 * The chat protocol: `auth.token` is required (UNAUTHORIZED otherwise) and turned into a
 * user by a trivial in-memory lookup (a user is made up for a token the first time it is
 * seen); a socket joins `user:<id>` and `chat:<room>` for each room in `auth.rooms`
 * (onRoom(room) runs first for each); `message:new {chatId, text, clientId?}` with an ack
 * checks the socket is in the room, stores the message with store({id, chatId, senderId,
 * text, clientId, createdAt}) → seq (it may throw {code: 'SQLITE_CONSTRAINT_UNIQUE'} for a
 * repeated clientId), emits `message:new {message}` to the room except the sender and acks
 * `{success:true, message}`, the message shaped like Parley's.
 */
function serveChat(io, { store, onRoom = () => {} }) {
  const users = new Map();
  let nextUser = 0;
  const userFor = (token) => {
    let u = users.get(token);
    if (!u) {
      nextUser++;
      u = { id: crypto.randomBytes(12).toString('hex'), handle: `user${nextUser}`, name: `User ${nextUser}`, image: null };
      users.set(token, u);
    }
    return u;
  };
  let idCounter = 0;
  const idPrefix = crypto.randomBytes(8).toString('hex');
  // A 24-hex id, unique per process (ObjectId-shaped like Parley's).
  const newID = () => idPrefix + (++idCounter).toString(16).padStart(8, '0');

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
      for (const r of rooms) {
        if (typeof r === 'string' && r) {
          onRoom(r);
          socket.join(`chat:${r}`);
        }
      }
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
      const clientId = typeof payload.clientId === 'string' ? payload.clientId : null;
      const createdAt = Date.now();
      const id = newID();
      let seq;
      try {
        seq = store({ id, chatId, senderId: user.id, text, clientId, createdAt });
      } catch (e) {
        if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' && clientId) {
          ack({ success: false, error: 'duplicate clientId', code: 'CONFLICT' });
        } else {
          ack({ success: false, error: 'store failed', code: 'INTERNAL' });
        }
        return;
      }
      const message = {
        id,
        chatId,
        seq,
        sender: { id: user.id, handle: user.handle, name: user.name, image: user.image },
        text,
        replyTo: null,
        clientId,
        createdAt: new Date(createdAt).toISOString(),
        editedAt: null,
        deleted: false,
      };
      socket.to(`chat:${chatId}`).emit('message:new', { message });
      ack({ success: true, message });
    });
  });
}

module.exports = { createServers, listen, serveChat };
