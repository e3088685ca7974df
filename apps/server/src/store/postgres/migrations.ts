/**
 * The PostgreSQL schema: versioned migrations, applied at open under an advisory lock so that
 * nodes starting together do not race, and the advisory lock keys the nodes share.
 */
import type pg from 'pg';

/** Advisory lock keys (pg_advisory_lock(bigint)): one for migrations, one for the engine leader. */
export const ADVISORY_LOCK = { migrations: 7_170_001, engineLeader: 7_170_002 } as const;

/** Applied in order, each in its own transaction; never edit one that has shipped, add the next. */
export const PG_MIGRATIONS: readonly string[] = [
  `CREATE TABLE events (
     stream     TEXT   NOT NULL,
     seq        BIGINT NOT NULL,
     event      TEXT   NOT NULL,
     envelope   TEXT   NOT NULL,
     created_at BIGINT NOT NULL,
     PRIMARY KEY (stream, seq)
   );
   CREATE INDEX events_created ON events (created_at);
   CREATE TABLE stream_seqs (
     stream   TEXT   PRIMARY KEY,
     last_seq BIGINT NOT NULL
   );
   CREATE TABLE market_snapshots (
     commodity  TEXT   PRIMARY KEY,
     seq        BIGINT NOT NULL,
     envelope   TEXT   NOT NULL,
     updated_at BIGINT NOT NULL
   );
   CREATE TABLE orders (
     id              TEXT   PRIMARY KEY,
     priority        BIGINT NOT NULL,
     user_id         TEXT   NOT NULL,
     commodity       TEXT   NOT NULL,
     status          TEXT   NOT NULL,
     client_order_id TEXT,
     record          JSONB  NOT NULL
   );
   CREATE INDEX orders_by_user ON orders (user_id, priority);
   CREATE INDEX orders_by_priority ON orders (priority);
   CREATE INDEX orders_open ON orders (status) WHERE status IN ('new', 'partially_filled');
   CREATE TABLE trades (
     id          TEXT   NOT NULL,
     user_id     TEXT   NOT NULL,
     seq         BIGINT NOT NULL,
     commodity   TEXT   NOT NULL,
     executed_at BIGINT NOT NULL,
     record      JSONB  NOT NULL,
     PRIMARY KEY (id, user_id)
   );
   CREATE INDEX trades_by_user ON trades (user_id, seq);
   CREATE INDEX trades_by_seq ON trades (seq);
   CREATE INDEX trades_by_time ON trades (executed_at);
   CREATE TABLE positions (
     user_id   TEXT  NOT NULL,
     commodity TEXT  NOT NULL,
     record    JSONB NOT NULL,
     PRIMARY KEY (user_id, commodity)
   );
   CREATE TABLE compliance_levels (
     user_id   TEXT  NOT NULL,
     commodity TEXT  NOT NULL,
     record    JSONB NOT NULL,
     PRIMARY KEY (user_id, commodity)
   );
   CREATE TABLE sessions (
     commodity TEXT  PRIMARY KEY,
     record    JSONB NOT NULL
   );
   CREATE TABLE engine_leader (
     id           INT PRIMARY KEY DEFAULT 1 CHECK (id = 1),
     term         BIGINT NOT NULL DEFAULT 0,
     node_id      TEXT,
     backend_pid  INT,
     heartbeat_at TIMESTAMPTZ
   );
   INSERT INTO engine_leader (id, term) VALUES (1, 0);`,
  // the public tape (market-trade, candles): every trade, numbered per commodity
  `CREATE TABLE market_trades (
     commodity   TEXT    NOT NULL,
     seq         BIGINT  NOT NULL,
     trade_id    TEXT    NOT NULL,
     price_ticks BIGINT  NOT NULL,
     quantity    BIGINT  NOT NULL,
     aggressor   TEXT    NOT NULL,
     executed_at BIGINT  NOT NULL,
     PRIMARY KEY (commodity, seq)
   );
   CREATE INDEX market_trades_time ON market_trades (commodity, executed_at);
   CREATE INDEX market_trades_age ON market_trades (executed_at);`,
  // kill switches, dead-man's switch deadlines, market statuses (see control-records.ts)
  `CREATE TABLE trading_controls (
     kind   TEXT  NOT NULL,
     key    TEXT  NOT NULL,
     record JSONB NOT NULL,
     PRIMARY KEY (kind, key)
   );`,
];

/** Runs the migrations that have not run yet, under the migrations advisory lock. */
export async function migratePg(client: pg.ClientBase): Promise<number> {
  await client.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCK.migrations]);
  try {
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
    const applied = rows[0]?.v ?? 0;
    if (applied > PG_MIGRATIONS.length) throw new Error(`the database schema (version ${applied}) is newer than this version knows (${PG_MIGRATIONS.length})`);
    for (let i = applied; i < PG_MIGRATIONS.length; i++) {
      await client.query('BEGIN');
      try {
        await client.query(PG_MIGRATIONS[i] as string);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [i + 1]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
    return PG_MIGRATIONS.length - applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCK.migrations]);
  }
}

