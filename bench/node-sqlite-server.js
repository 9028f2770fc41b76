// A Node.js socket.io v4 chat server WITH a database, compared against Parley in the e2e and
// open scenarios of scripts/bench.sh: the protocol of bench/node-server.js (read its
// header), plus a durable SQLite write per message with better-sqlite3:
//   - one transaction per message bumps the chat's seq and inserts the message row (id,
//     chatId, seq, senderId, text, clientId, createdAt); the ack and the broadcast go out
//     after the commit;
//   - WAL journal, synchronous=NORMAL (Parley's default: in WAL mode a commit is not fsynced,
//     the WAL is at checkpoints), indexes as Parley's messages table has them: the primary
//     key, UNIQUE (chatId, seq), and UNIQUE (senderId, chatId, clientId) where clientId is set.
// better-sqlite3 is synchronous, so the write runs on the event loop, as a simple Node
// server with it does. No membership table: membership is the socket's rooms, as in
// node-server.js.
//
// Env: PORT (0 = any free port), HOST (127.0.0.1), SQLITE_PATH (required: the database
// file; created). Prints `listening <port>` on stdout.
'use strict';

const http = require('node:http');
const crypto = require('node:crypto');
const Database = require('better-sqlite3');
const { Server } = require('socket.io');

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST || '127.0.0.1';
const dbPath = process.env.SQLITE_PATH;
if (!dbPath) {
  process.stderr.write('node-sqlite-server.js: SQLITE_PATH is required\n');
  process.exit(2);
}

const db = new Database(dbPath);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
db.exec(`
  CREATE TABLE IF NOT EXISTS chats (
    id  TEXT PRIMARY KEY,
    seq INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE IF NOT EXISTS messages (
    id        TEXT PRIMARY KEY,
    chatId    TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    senderId  TEXT NOT NULL,
    text      TEXT NOT NULL,
    clientId  TEXT,
    createdAt INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX IF NOT EXISTS messages_chat_seq ON messages (chatId, seq);
  CREATE UNIQUE INDEX IF NOT EXISTS messages_client ON messages (senderId, chatId, clientId) WHERE clientId IS NOT NULL;
`);
const ensureChat = db.prepare('INSERT OR IGNORE INTO chats (id, seq) VALUES (?, 0)');
const bumpSeq = db.prepare('UPDATE chats SET seq = seq + 1 WHERE id = ? RETURNING seq');
const insertMessage = db.prepare(
  'INSERT INTO messages (id, chatId, seq, senderId, text, clientId, createdAt) VALUES (?, ?, ?, ?, ?, ?, ?)',
);
// One transaction: bump the seq, insert the row; returns the seq.
const storeMessage = db.transaction((m) => {
  const { seq } = bumpSeq.get(m.chatId);
  insertMessage.run(m.id, m.chatId, seq, m.senderId, m.text, m.clientId, m.createdAt);
  return seq;
});

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

let idCounter = 0;
const idPrefix = crypto.randomBytes(8).toString('hex');
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
    for (const r of rooms) {
      if (typeof r === 'string' && r) {
        ensureChat.run(r);
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
      seq = storeMessage({ id, chatId, senderId: user.id, text, clientId, createdAt });
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

httpServer.listen(port, host, () => {
  process.stdout.write(`listening ${httpServer.address().port}\n`);
});

function stop() {
  io.close();
  httpServer.close(() => {
    db.close();
    process.exit(0);
  });
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
