#!/usr/bin/env node
// Finds every *.test.ts (unit tests beside their source, integration tests in each app's test/)
// and runs each file with Node's test runner (TypeScript loaded by tsx from the workspace sources),
// two files at a time. A file's report is printed when it ends (whole, never interleaved with
// another's); at the end come the totals, the failed files and the 10 slowest files.
//
// Usage: node scripts/run-tests.mjs [--unit] [--repeat N] [path-filter ...]
//   --unit       only the unit tests (not the files under a test/ folder)
//   --repeat N   run the chosen files N times in a row and report each file's passes (e.g. 5/5)
//
// Each file runs in a process of its own (as `node --test` runs them) with --test-force-exit: a file
// whose tests have all finished exits even if something it started still holds the event loop (a
// leak of the test, which must not hang the run). A file still running after 10 minutes is killed
// and fails: a hang fails the run, never stalls it.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const CONCURRENCY = 2;
const SLOWEST = 10;
const FILE_TIMEOUT_MS = 10 * 60_000;

function usage(message) {
  console.error(`${message}\nusage: node scripts/run-tests.mjs [--unit] [--repeat N] [path-filter ...]`);
  process.exit(2);
}

const argv = process.argv.slice(2);
let unitOnly = false;
let repeat = 1;
const filters = [];
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i];
  if (arg === '--unit') unitOnly = true;
  else if (arg === '--repeat' || arg.startsWith('--repeat=')) {
    const value = arg === '--repeat' ? argv[++i] : arg.slice('--repeat='.length);
    repeat = Number(value);
    if (!Number.isInteger(repeat) || repeat < 1) usage(`--repeat takes a whole number of runs, at least 1 (got ${value ?? 'nothing'})`);
  } else if (arg.startsWith('--')) usage(`unknown option ${arg}`);
  else filters.push(arg);
}

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
  try {
    return walk(join(root, r), []);
  } catch {
    return [];
  }
});
if (unitOnly) files = files.filter((f) => !f.includes('/test/'));
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
files.sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const running = new Set();
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    interrupted = true;
    // each file runs in a process group of its own: end it whole (the runner and the file's process)
    for (const child of running) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    process.exitCode = 130;
  });
}

const COUNTS = ['tests', 'pass', 'fail', 'cancelled', 'skipped', 'todo'];

/** Runs one test file; resolves with its exit status, duration, report and the spec reporter's counts. */
function runFile(file) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', '--test-reporter=spec', '--test-force-exit', file], {
      cwd: root,
      env: { ...process.env, NODE_ENV: 'test' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    running.add(child);
    const chunks = [];
    child.stdout.on('data', (c) => chunks.push(c));
    child.stderr.on('data', (c) => chunks.push(c));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, FILE_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      if (timedOut) chunks.push(Buffer.from(`\n✖ ${file}: still running after ${FILE_TIMEOUT_MS / 60_000} minutes: killed\n`));
      const output = Buffer.concat(chunks).toString();
      const counts = {};
      for (const line of output.split('\n')) {
        const m = /^ℹ (\w+) (\d+)$/.exec(line.trim());
        if (m && COUNTS.includes(m[1])) counts[m[1]] = Number(m[2]);
      }
      resolve({ file, ok: code === 0 && !timedOut, status: timedOut ? 'timeout' : (code ?? signal), seconds: (performance.now() - started) / 1000, output, counts });
    });
  });
}

/** Runs `list` CONCURRENCY files at a time, printing each file's report as it ends. */
async function runAll(list, label) {
  const queue = [...list];
  const results = [];
  const worker = async () => {
    while (queue.length && !interrupted) {
      const result = await runFile(queue.shift());
      results.push(result);
      const mark = result.ok ? 'ok' : `FAILED (exit ${result.status})`;
      process.stdout.write(`\n── ${result.file} ${label}· ${result.seconds.toFixed(1)} s · ${mark}\n${result.output.trimEnd()}\n`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, list.length) }, worker));
  return results;
}

const startedAt = performance.now();
const runs = [];
for (let run = 1; run <= repeat && !interrupted; run++) {
  const label = repeat > 1 ? `(run ${run}/${repeat}) ` : '';
  const t = performance.now();
  const results = await runAll(files, label);
  runs.push({ results, seconds: (performance.now() - t) / 1000 });
}
const all = runs.flatMap((r) => r.results);
const total = (performance.now() - startedAt) / 1000;

const lines = ['', '══ summary'];
const sums = Object.fromEntries(COUNTS.map((k) => [k, all.reduce((n, r) => n + (r.counts[k] ?? 0), 0)]));
lines.push(`files ${all.length} (${all.filter((r) => r.ok).length} passed, ${all.filter((r) => !r.ok).length} failed) · ${COUNTS.map((k) => `${k} ${sums[k]}`).join(' · ')} · ${total.toFixed(1)} s`);
if (repeat > 1) {
  runs.forEach((r, i) => {
    const failed = r.results.filter((x) => !x.ok).map((x) => x.file);
    lines.push(`run ${i + 1}: ${failed.length ? `FAILED ${failed.join(', ')}` : `all ${r.results.length} files passed`} (${r.seconds.toFixed(1)} s)`);
  });
  lines.push('', 'passes per file:');
  for (const file of files) {
    const mine = all.filter((r) => r.file === file);
    const passed = mine.filter((r) => r.ok).length;
    const failedRuns = runs.flatMap((r, i) => (r.results.some((x) => x.file === file && !x.ok) ? [i + 1] : []));
    const times = mine.map((r) => r.seconds.toFixed(1)).join(', ');
    lines.push(`  ${passed}/${mine.length}  ${file}  [${times} s]${failedRuns.length ? `  failed in run ${failedRuns.join(', ')}` : ''}`);
  }
}
const failures = all.filter((r) => !r.ok);
if (failures.length) {
  lines.push('', 'failed:');
  for (const r of failures) lines.push(`  ${r.file}${repeat > 1 ? ` (run ${runs.findIndex((x) => x.results.includes(r)) + 1})` : ''} · exit ${r.status}`);
}
// the slowest files (a file run several times counts with its slowest run)
const slowest = new Map();
for (const r of all) if ((slowest.get(r.file) ?? 0) < r.seconds) slowest.set(r.file, r.seconds);
lines.push('', `slowest files:`);
for (const [file, seconds] of [...slowest].sort((a, b) => b[1] - a[1]).slice(0, SLOWEST)) lines.push(`  ${seconds.toFixed(1).padStart(6)} s  ${file}`);
process.stdout.write(`${lines.join('\n')}\n`);
if (interrupted) process.exit(130);
process.exit(failures.length || runs.length < repeat ? 1 : 0);
