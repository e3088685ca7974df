/**
 * The durable store: one SQLite file in WAL mode (better-sqlite3 12.x). synchronous=NORMAL keeps
 * every committed transaction across a process crash (kill -9); only an OS crash may lose the last
 * few. Schema migrations are applied in order at open.
 */
import BetterSqlite3 from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export type Sqlite = BetterSqlite3.Database;

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE events (
     stream     TEXT    NOT NULL,
     seq        INTEGER NOT NULL,
     event      TEXT    NOT NULL,
     envelope   TEXT    NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (stream, seq)
   ) WITHOUT ROWID;
   CREATE INDEX events_created ON events (created_at);
   CREATE TABLE market_snapshots (
     commodity  TEXT PRIMARY KEY,
     seq        INTEGER NOT NULL,
     envelope   TEXT    NOT NULL,
     updated_at INTEGER NOT NULL
   );`,
];

/** Opens (creating if needed) the store in `dataDir`, or in memory for ':memory:'. */
export function openDatabase(dataDir: string, extraMigrations: readonly string[] = []): Sqlite {
  let file = ':memory:';
  if (dataDir !== ':memory:') {
    mkdirSync(dataDir, { recursive: true });
    file = join(dataDir, 'quantenergx.sqlite');
  }
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  migrate(db, 'core', MIGRATIONS);
  if (extraMigrations.length) migrate(db, 'extra', extraMigrations);
  return db;
}

/** Applies the migrations of one named set that have not run yet, each in its own transaction. */
export function migrate(db: Sqlite, set: string, migrations: readonly string[]): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (set_name TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (set_name, version))');
  const applied = db.prepare<[string], { v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations WHERE set_name = ?').get(set)?.v ?? 0;
  for (let i = applied; i < migrations.length; i++) {
    db.transaction(() => {
      db.exec(migrations[i] as string);
      db.prepare('INSERT INTO schema_migrations (set_name, version) VALUES (?, ?)').run(set, i + 1);
    })();
  }
}
