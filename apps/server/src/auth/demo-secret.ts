/**
 * The demo-mode signing secret (no JWT_SECRET, no JWKS_URL). It is kept in the data folder so a
 * restart on the same DATA_DIR accepts the tokens it issued before — the screens reconnect
 * instead of being signed out. The file is made once, readable by its owner only (0600), and
 * read back at every start; a file that others can read is narrowed to 0600. With
 * `DATA_DIR=:memory:` nothing is kept: the secret is random per start, as the store is.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StartupError } from '../startup-error.js';

export const DEMO_SECRET_FILE = 'demo-secret';

/** 256 bits, hex: what a new secret is, and the least a kept one may be (64 hex characters). */
const SECRET_BYTES = 32;
const KEPT = /^[0-9a-f]{64,}$/;

const newSecret = () => randomBytes(SECRET_BYTES).toString('hex');

/** The demo secret of `dataDir`: read from `DATA_DIR/demo-secret`, or made and written there once. */
export function loadDemoSecret(dataDir: string): string {
  if (dataDir === ':memory:') return newSecret();
  const path = join(dataDir, DEMO_SECRET_FILE);
  const kept = read(path);
  if (kept !== null) return kept;
  const secret = newSecret();
  try {
    // wx: never replace a secret another start wrote meanwhile
    writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'EEXIST') {
      const raced = read(path);
      if (raced !== null) return raced;
    }
    throw new StartupError('DATA_DIR', `${resolve(path)} (the demo-mode secret) cannot be written: ${err instanceof Error ? err.message : String(err)}`);
  }
  return secret;
}

/** The kept secret, or null when there is none yet; a file that is not one stops the start. */
function read(path: string): string | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return null;
    throw new StartupError('DATA_DIR', `${resolve(path)} (the demo-mode secret) cannot be read: ${err instanceof Error ? err.message : String(err)}`);
  }
  const secret = text.trim();
  if (!KEPT.test(secret)) {
    throw new StartupError('DATA_DIR', `${resolve(path)} is not a demo-mode secret (64+ hex characters): delete it to make a new one (every demo token is then refused)`);
  }
  // the owner's only: a copy someone else can read could sign any user's token
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  return secret;
}
