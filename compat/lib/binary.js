// Locates the Parley binary: $PARLEY_BIN if set, else `go build` of the repository root,
// once per process (lib/run-tests.js builds once for a whole `npm test` run and passes
// PARLEY_BIN to every test file).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const COMPAT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = path.resolve(COMPAT_DIR, '..');

let cached = null;

export function buildBinary() {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-bin-'));
  const out = path.join(dir, 'parley');
  const r = spawnSync('go', ['build', '-o', out, '.'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.error) throw new Error(`go build could not start: ${r.error.message}`);
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`go build -o ${out} . failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
  }
  return { path: out, dir };
}

export function parleyBinary() {
  if (process.env.PARLEY_BIN) return process.env.PARLEY_BIN;
  if (cached) return cached;
  const { path: bin, dir } = buildBinary();
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  cached = bin;
  return bin;
}
