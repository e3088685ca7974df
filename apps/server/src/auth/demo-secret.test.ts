import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_SECRET_FILE, loadDemoSecret } from './demo-secret.js';
import { SecretTokenVerifier } from './token-verifier.js';

function withDir(run: (dir: string) => void | Promise<void>) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qx-demo-secret-'));
    try {
      await run(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  'made once in DATA_DIR, owner-only, and read back at the next start: a token signed before verifies after',
  withDir(async (dir) => {
    const first = loadDemoSecret(dir);
    assert.match(first, /^[0-9a-f]{64}$/);
    const file = join(dir, DEMO_SECRET_FILE);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(readFileSync(file, 'utf8').trim(), first);
    const token = await new SecretTokenVerifier(first).sign('trader-1', { roles: [], ttlSeconds: 60 });
    // "restart": a new verifier from the kept secret
    const again = loadDemoSecret(dir);
    assert.equal(again, first);
    const verified = await new SecretTokenVerifier(again).verify(token);
    assert.ok(verified.ok && verified.token.userId === 'trader-1');
  }),
);

test('DATA_DIR=:memory: keeps nothing: a new random secret each start', () => {
  const a = loadDemoSecret(':memory:');
  const b = loadDemoSecret(':memory:');
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.notEqual(a, b);
});

test(
  'a secret file others can read is narrowed to the owner',
  withDir((dir) => {
    const file = join(dir, DEMO_SECRET_FILE);
    writeFileSync(file, `${'ab'.repeat(32)}\n`);
    chmodSync(file, 0o644);
    assert.equal(loadDemoSecret(dir), 'ab'.repeat(32));
    assert.equal(statSync(file).mode & 0o777, 0o600);
  }),
);

test(
  'a file that is not a secret stops the start naming DATA_DIR, and is left as it was',
  withDir((dir) => {
    const file = join(dir, DEMO_SECRET_FILE);
    writeFileSync(file, 'short\n', { mode: 0o600 });
    assert.throws(() => loadDemoSecret(dir), (err: Error) => err.name === 'StartupError' && /^DATA_DIR: .*demo-secret is not a demo-mode secret/.test(err.message));
    assert.equal(readFileSync(file, 'utf8'), 'short\n');
  }),
);

test(
  'a secret path that cannot be read (a folder in the way) stops the start with the reason',
  withDir((dir) => {
    mkdirSync(join(dir, DEMO_SECRET_FILE));
    assert.throws(() => loadDemoSecret(dir), /DATA_DIR: .*demo-secret \(the demo-mode secret\) cannot be read: EISDIR/);
  }),
);
