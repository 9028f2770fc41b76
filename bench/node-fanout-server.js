// The bare Node.js socket.io v4 fan-out server of the fanout scenario of scripts/bench.sh
// (Parley's counterpart is the Go main package bench/fanout, same contract):
//   - every socket joins room `r` on connection (no auth);
//   - each `m` event is broadcast with the same payload to `r`, sender included;
//   - GET /healthz answers 200.
// Env: PORT (0 = any free port), HOST (127.0.0.1). Prints `listening <port>` on stdout.
'use strict';

const { createServers, listen } = require('./node-common');

const { httpServer, io } = createServers();
io.on('connection', (socket) => {
  socket.join('r');
  socket.on('m', (payload) => {
    io.to('r').emit('m', payload);
  });
});
listen(httpServer, io);
