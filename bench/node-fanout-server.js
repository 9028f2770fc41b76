// The bare Node.js socket.io v4 fan-out server of the fanout scenario of scripts/bench.sh
// (Parley's counterpart is the Go main package bench/fanout, same contract):
//   - every socket joins room `r` on connection (no auth);
//   - each `m` event is broadcast with the same payload to `r`, sender included;
//   - GET /healthz answers 200.
// Env: PORT (0 = any free port), HOST (127.0.0.1). Prints `listening <port>` on stdout.
'use strict';

const http = require('node:http');
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

// socket.io defaults otherwise (websocket + polling, no per-message deflate).
const io = new Server(httpServer, { serveClient: false });

io.on('connection', (socket) => {
  socket.join('r');
  socket.on('m', (payload) => {
    io.to('r').emit('m', payload);
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
