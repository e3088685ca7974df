#!/usr/bin/env node
// Finds every *.test.ts (unit tests beside their source, integration tests in each app's test/)
// and runs them with Node's test runner, TypeScript loaded by tsx from the workspace sources.
// Usage: node scripts/run-tests.mjs [--unit] [path-filter ...]
// --test-force-exit: a test file whose tests have all finished exits even if something it started
// still holds the event loop (such a leak is a bug of the test, but it must not hang the run);
// --test-timeout: a test still running after 10 minutes fails (a hang fails the run, never stalls it).
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const filters = args.filter((a) => !a.startsWith('--'));
const roots = ['packages', 'apps', 'bench', 'clients'];
const skip = new Set(['node_modules', 'dist', 'data']);

function walk(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skip.has(entry.name) || entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (/\.test\.tsx?$/.test(entry.name)) out.push(relative(root, full));
  }
  return out;
}

let files = roots.flatMap((r) => {
  try { return walk(join(root, r), []); } catch { return []; }
});
if (unitOnly) files = files.filter((f) => !f.includes('/test/'));
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
files.sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--conditions=source', '--import', 'tsx', '--test', '--test-concurrency=2', '--test-force-exit', '--test-timeout=600000', ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
