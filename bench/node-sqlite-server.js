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

const Database = require('better-sqlite3');
const { createServers, listen, serveChat } = require('./node-common');

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

const { httpServer, io } = createServers();
serveChat(io, { store: storeMessage, onRoom: (r) => ensureChat.run(r) });
listen(httpServer, io, () => db.close());
