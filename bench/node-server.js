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
// The protocol itself is in node-common.js.
'use strict';

const { createServers, listen, serveChat } = require('./node-common');

const { httpServer, io } = createServers();
// room -> last seq, as Parley's per-chat seq.
const seqs = new Map();
serveChat(io, {
  store: ({ chatId }) => {
    const seq = (seqs.get(chatId) ?? 0) + 1;
    seqs.set(chatId, seq);
    return seq;
  },
});
listen(httpServer, io);
