/**
 * A fresh PostgreSQL database per test run (`qx_test_<random>`), dropped afterwards. PostgreSQL is
 * at 127.0.0.1:5432 (user postgres) unless QX_TEST_PG_URL names another server. Without one, PG
 * tests skip with a message — except when CI=true, where that is a failure.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import pg from 'pg';

export const PG_ADMIN_URL = process.env['QX_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  /** connection string of the fresh database */
  url: string;
  /** drops it (terminating any connection still open on it) */
  drop(): Promise<void>;
  /** registers something to close before the database is dropped (run last-registered first) */
  cleanup(fn: () => unknown): void;
}

/** null when the server answers, else why not. */
export async function pgUnavailable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `qx_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  const cleanups: (() => unknown)[] = [];
  return {
    name,
    url: url.toString(),
    cleanup: (fn) => void cleanups.push(fn),
    async drop() {
      for (const fn of cleanups.reverse()) {
        try {
          await fn();
        } catch {
          /* closing what the test left open: the drop below terminates it anyway */
        }
      }
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * A fresh database for test `t` (dropped when it ends, after what was registered with `cleanup`), or null after skipping it when PostgreSQL
 * is unreachable (in CI: fails instead).
 */
export async function testDatabaseOrSkip(t: TestContext): Promise<TestDatabase | null> {
  const why = await pgUnavailable();
  if (why !== null) {
    assert.notEqual(process.env['CI'], 'true', `PostgreSQL is required in CI (${PG_ADMIN_URL}): ${why}`);
    t.skip(`PostgreSQL not reachable at ${PG_ADMIN_URL}: ${why}`);
    return null;
  }
  const db = await createTestDatabase();
  t.after(() => db.drop());
  return db;
}
