// Several Parley nodes joined through one Redis (REDIS_URL) over one store: the same
// SQLite file (the first node's data directory, reused through startServer's dataDir
// option) or, in Mongo mode, the same MONGODB_DB (startServer's mongoDb option).
import { startServer, stopServer } from './server.js';
import { startRedis } from './redis.js';

/**
 * opts.nodes: how many Parley processes (default 2)
 * opts.env: extra environment for every node (REDIS_URL is set here)
 * Resolves with { redis, nodes: ParleyServer[], stop() }.
 */
export async function startCluster({ nodes = 2, env = {} } = {}) {
  const redis = await startRedis();
  const servers = [];
  const stop = async () => {
    const errors = [];
    // Later nodes share the first node's data directory: stop them first, then the first
    // (whose stopServer removes the directory), then Redis.
    for (const s of [...servers].reverse()) {
      try { await stopServer(s); } catch (err) { errors.push(err); }
    }
    await redis.stop();
    if (errors.length) throw errors[0];
  };
  try {
    const first = await startServer({ env: { ...env, REDIS_URL: redis.url } });
    servers.push(first);
    for (let i = 1; i < nodes; i++) {
      servers.push(await startServer({
        env: { ...env, REDIS_URL: redis.url },
        dataDir: first.dataDir, // same SQLITE_PATH (dataDir/parley.db)
        mongoDb: first.mongoDb, // same MONGODB_DB in Mongo mode
      }));
    }
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  return { redis, nodes: servers, stop };
}
