/**
 * Starting the real entry point: the command line (usage, unknown flags, --check-config with its
 * warnings), a data folder that cannot be used (a file, unwritable, full disk) and one that another
 * server holds — each says which setting and why, without a stack trace, and exits non-zero.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SECRET, startServer } from './helpers.js';
import { spawnServer } from './spawn.js';
import { StartupError } from '../src/startup-error.js';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

interface Run {
  code: number | string;
  stdout: string;
  stderr: string;
}

/** Runs main.ts to its end (at most 60 s: loading the sources through tsx takes 10 s and more on a loaded CI machine): it must exit by itself, never start listening. */
function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', SIMULATOR: 'off', JWT_SECRET: SECRET, PUBLISH_API_KEY: 'startup-test-key-0123456789', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`main.ts ${args.join(' ')} did not exit:\n${stdout}\n${stderr}`));
    }, 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? -1, stdout, stderr });
    });
  });
}

const noStack = (r: Run) => assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, 'no stack trace');

// each test's runs are independent of one another: they run side by side (each loads the sources)
test('--help prints the usage and exits 0 without starting a server', async () => {
  const flags = ['--help', '-h'];
  for (const r of await Promise.all(flags.map((flag) => run([flag])))) {
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: .*--check-config/);
    assert.doesNotMatch(r.stdout, /listening/);
  }
});

test('an unknown flag is refused with exit 2 and the usage, with or without --check-config', async () => {
  const cases = [['--bogus'], ['--check-config', '--bogus'], ['extra-argument']];
  for (const [i, r] of (await Promise.all(cases.map((args) => run(args)))).entries()) {
    const args = cases[i]!;
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, /Unknown option '--bogus'|Unexpected argument 'extra-argument'/);
    assert.match(r.stderr, /Usage: /);
    assert.doesNotMatch(r.stdout, /configuration ok|listening/);
  }
});

test('--check-config shows the warnings a real start prints', async () => {
  const [r, demo] = await Promise.all([
    run(['--check-config'], { JWT_SECRET: 'short', MAX_EVENT_PER_SECOND: '5' }),
    run(['--check-config'], { JWT_SECRET: '', PUBLISH_API_KEY: '' }),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /configuration ok/);
  assert.match(r.stderr, /warning: MAX_EVENT_PER_SECOND is not a setting/);
  assert.match(r.stderr, /warning: JWT_SECRET is shorter than 32 characters/);
  assert.match(demo.stderr, /warning: demo mode/);
  assert.match(demo.stderr, /warning: PUBLISH_API_KEY not set/);
});

test("--check-config shows a Redis Cluster's redis+cluster:// URL with its password masked", async () => {
  const r = await run(['--check-config'], { ROLE: 'gateway', DATABASE_URL: 'postgres://qx:pg-secret@db:5432/qx', REDIS_URL: 'rediss+cluster://app:redis-secret@10.0.0.1:7000,10.0.0.2:7000' });
  assert.equal(r.code, 0, r.stderr);
  const shown = JSON.parse(r.stdout.slice(0, r.stdout.lastIndexOf('configuration ok'))) as { cluster: { redisUrl: string; databaseUrl: string } };
  assert.equal(shown.cluster.redisUrl, 'rediss+cluster://app:***@10.0.0.1:7000,10.0.0.2:7000');
  assert.equal(shown.cluster.databaseUrl, 'postgres://qx:***@db:5432/qx');
  assert.doesNotMatch(r.stdout, /pg-secret|redis-secret/);
});

test('a DATA_DIR that is a file, or cannot be written, stops the start with a message naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qx-startup-'));
  try {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a folder');
    // sysfs refuses new folders even to root; elsewhere a folder without write permission does
    const unwritable = process.platform === 'linux' ? '/sys/qx-data' : join(dir, 'read-only');
    if (process.platform !== 'linux') mkdirSync(unwritable, { mode: 0o500 });
    const [asFile, below, r] = await Promise.all([file, join(file, 'below'), unwritable].map((dataDir) => run([], { DATA_DIR: dataDir })));
    for (const notDir of [asFile!, below!]) {
      assert.equal(notDir.code, 1, notDir.stdout);
      assert.match(notDir.stderr, new RegExp(`^Cannot start: DATA_DIR: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.* is not a directory`));
      noStack(notDir);
    }
    assert.equal(r!.code, 1, r!.stdout);
    assert.match(r!.stderr, /^Cannot start: DATA_DIR: \S+ cannot be written: /);
    noStack(r!);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a full disk at start says so, naming DATA_DIR', async (t) => {
  const mount = mkdtempSync(join(tmpdir(), 'qx-full-'));
  // a small tmpfs stands in for a full disk; mounting needs root
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mount], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    rmSync(mount, { recursive: true, force: true });
    if (process.env['CI'] === 'true') assert.fail(`CI=true but a tmpfs cannot be mounted: ${mounted.stderr}`);
    t.skip(`cannot mount a tmpfs (${mounted.stderr.trim() || mounted.error?.message}): needs root`);
    return;
  }
  try {
    mkdirSync(join(mount, 'data'));
    // fill it: one file to the last block
    const filled = spawnSync('dd', ['if=/dev/zero', `of=${join(mount, 'filler')}`, 'bs=4096'], { encoding: 'utf8' });
    assert.match(filled.stderr, /No space left/);
    const r = await run([], { DATA_DIR: join(mount, 'data') });
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /^Cannot start: DATA_DIR: \S+: the disk is full/);
    noStack(r);
  } finally {
    spawnSync('umount', [mount]);
    rmSync(mount, { recursive: true, force: true });
  }
});

test('a second server on the same DATA_DIR refuses to start; the first keeps it, and after kill -9 it is free', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'qx-lock-'));
  const env = { JWT_SECRET: SECRET, PUBLISH_API_KEY: 'startup-test-key-0123456789', DATA_DIR: dataDir };
  const first = await spawnServer(env);
  try {
    const second = await run([], { DATA_DIR: dataDir });
    assert.equal(second.code, 1, second.stdout);
    assert.match(second.stderr, /^Cannot start: DATA_DIR: \S+ is in use by another running server/);
    noStack(second);
    // in the same process too (a second buildServer on a held folder)
    await assert.rejects(startServer({}, { dataDir, keepData: true }), (err: unknown) => err instanceof StartupError && err.setting === 'DATA_DIR');
    // the first one still serves
    assert.equal((await fetch(`${first.url}/ready`)).status, 200);
    first.child.kill('SIGKILL');
    await first.exited;
    // the operating system dropped the lock with the process
    const next = await startServer({}, { dataDir });
    await next.close();
  } finally {
    first.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
