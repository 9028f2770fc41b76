#!/usr/bin/env node
// `npm test`: build the server once (unless PARLEY_BIN is set), then run every test file
// with `node --test --test-concurrency=1`, one file at a time. Extra arguments are passed
// to `node --test` (e.g. `npm test -- test/chats.test.js` or `--test-name-pattern=...`).
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { COMPAT_DIR, buildBinary } from './binary.js';

let built = null;
const env = { ...process.env };
if (!env.PARLEY_BIN) {
  process.stderr.write('compat: building the server (go build) ...\n');
  built = buildBinary();
  env.PARLEY_BIN = built.path;
}
const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const child = spawn(
  process.execPath,
  ['--test', '--test-concurrency=1', ...flags, ...(files.length ? files : ['test/'])],
  { cwd: COMPAT_DIR, env, stdio: 'inherit' },
);
const cleanup = () => { if (built) rmSync(built.dir, { recursive: true, force: true }); };
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  cleanup();
  process.exit(code ?? (signal ? 1 : 0));
});
