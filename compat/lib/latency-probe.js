// A worker thread that times one user's acks while the main thread generates load, so the
// figures are the server's and not the load generator's event-loop lag.
//   const probe = startProbe(server, token, { event: 'user:me', intervalMs: 20 });
//   ... load ...
//   const ms = await probe.stop();   // every ack latency, in order
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

export function startProbe(server, token, { event = 'user:me', payload = {}, intervalMs = 20 } = {}) {
  const worker = new Worker(new URL(import.meta.url), { workerData: { url: server.url, token, event, payload, intervalMs } });
  // The worker posts {ready} once, then {latencies} or {error} once, and exits.
  let onReady;
  let onDone;
  const ready = new Promise((resolve, reject) => { onReady = { resolve, reject }; });
  const done = new Promise((resolve, reject) => { onDone = { resolve, reject }; });
  ready.catch(() => {});
  done.catch(() => {});
  worker.on('message', (m) => {
    if (m.ready) onReady.resolve();
    else if (m.error) { onReady.reject(new Error(m.error)); onDone.reject(new Error(m.error)); }
    else onDone.resolve(m.latencies);
  });
  worker.on('error', (err) => { onReady.reject(err); onDone.reject(err); });
  worker.unref(); // never what keeps the test process alive
  worker.on('exit', (code) => {
    const err = new Error(`latency probe exited (${code}) without a result`);
    onReady.reject(err);
    onDone.reject(err);
  });
  return {
    ready,
    stop: () => { worker.postMessage('stop'); return done; },
  };
}

if (!isMainThread) {
  const { io } = await import('socket.io-client');
  const { url, token, event, payload, intervalMs } = workerData;
  const socket = io(url, { auth: { token }, transports: ['websocket'], forceNew: true, reconnection: false });
  let stopping = false;
  parentPort.on('message', () => { stopping = true; });
  try {
    await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('connect_error', reject); });
    parentPort.postMessage({ ready: true });
    const latencies = [];
    while (!stopping) {
      const t0 = performance.now();
      const res = await socket.timeout(10_000).emitWithAck(event, payload);
      if (!res?.success) throw new Error(`${event} failed: ${JSON.stringify(res)}`);
      latencies.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    socket.close();
    parentPort.postMessage({ latencies });
  } catch (err) {
    socket.close();
    parentPort.postMessage({ error: String(err?.message ?? err) });
  }
  parentPort.close(); // the listener above would keep this thread alive
}
