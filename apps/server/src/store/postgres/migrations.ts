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
  // one step's commit as one statement, one round trip (step-commit.ts): the fence, the journal, the
  // tape, and the events numbered by the writer and checked here against stream_seqs under its row lock
  `CREATE FUNCTION qx_commit_step(
     p_term bigint,
     o_id text[], o_priority bigint[], o_user text[], o_commodity text[], o_status text[], o_client_id text[], o_record jsonb[],
     t_id text[], t_user text[], t_seq bigint[], t_commodity text[], t_executed bigint[], t_record jsonb[],
     p_user text[], p_commodity text[], p_record jsonb[],
     c_user text[], c_commodity text[], c_record jsonb[],
     s_commodity text[], s_record jsonb[],
     k_kind text[], k_key text[], k_record jsonb[],
     m_commodity text[], m_seq bigint[], m_trade_id text[], m_price bigint[], m_quantity bigint[], m_aggressor text[], m_executed bigint[],
     n_stream text[], n_expected bigint[], n_count bigint[],
     e_stream text[], e_seq bigint[], e_event text[], e_envelope text[], e_created bigint[]
   ) RETURNS void LANGUAGE plpgsql AS $fn$
   DECLARE
     current_term bigint;
     moved jsonb;
   BEGIN
     IF p_term IS NOT NULL THEN
       -- FOR SHARE: a take-over (which raises the term) waits for this commit, and this one sees a raised term
       SELECT term INTO current_term FROM engine_leader WHERE id = 1 FOR SHARE;
       IF current_term IS DISTINCT FROM p_term THEN
         RAISE EXCEPTION 'fenced: term % is not the engine leader''s term (%)', p_term, current_term
           USING ERRCODE = 'QXF01', DETAIL = coalesce(current_term::text, '');
       END IF;
     END IF;
     IF cardinality(o_id) > 0 THEN
       INSERT INTO orders (id, priority, user_id, commodity, status, client_order_id, record)
       SELECT * FROM unnest(o_id, o_priority, o_user, o_commodity, o_status, o_client_id, o_record)
       ON CONFLICT (id) DO UPDATE SET status = excluded.status, record = excluded.record;
     END IF;
     IF cardinality(t_id) > 0 THEN
       INSERT INTO trades (id, user_id, seq, commodity, executed_at, record)
       SELECT * FROM unnest(t_id, t_user, t_seq, t_commodity, t_executed, t_record)
       ON CONFLICT (id, user_id) DO NOTHING;
     END IF;
     IF cardinality(p_user) > 0 THEN
       INSERT INTO positions (user_id, commodity, record) SELECT * FROM unnest(p_user, p_commodity, p_record)
       ON CONFLICT (user_id, commodity) DO UPDATE SET record = excluded.record;
     END IF;
     IF cardinality(c_user) > 0 THEN
       INSERT INTO compliance_levels (user_id, commodity, record) SELECT * FROM unnest(c_user, c_commodity, c_record)
       ON CONFLICT (user_id, commodity) DO UPDATE SET record = excluded.record;
     END IF;
     IF cardinality(s_commodity) > 0 THEN
       INSERT INTO sessions (commodity, record) SELECT * FROM unnest(s_commodity, s_record)
       ON CONFLICT (commodity) DO UPDATE SET record = excluded.record;
     END IF;
     IF cardinality(k_kind) > 0 THEN
       INSERT INTO trading_controls (kind, key, record) SELECT * FROM unnest(k_kind, k_key, k_record)
       ON CONFLICT (kind, key) DO UPDATE SET record = excluded.record;
     END IF;
     IF cardinality(m_commodity) > 0 THEN
       INSERT INTO market_trades (commodity, seq, trade_id, price_ticks, quantity, aggressor, executed_at)
       SELECT * FROM unnest(m_commodity, m_seq, m_trade_id, m_price, m_quantity, m_aggressor, m_executed);
     END IF;
     IF cardinality(n_stream) > 0 THEN
       -- rows locked in the order given (sorted by the writer), so two writers cannot deadlock
       WITH bumped AS (
         INSERT INTO stream_seqs AS s (stream, last_seq) SELECT * FROM unnest(n_stream, n_count)
         ON CONFLICT (stream) DO UPDATE SET last_seq = s.last_seq + excluded.last_seq
         RETURNING s.stream, s.last_seq
       )
       SELECT jsonb_object_agg(b.stream, b.last_seq - u.n) INTO moved
       FROM bumped b JOIN unnest(n_stream, n_expected, n_count) AS u(stream, expected, n) ON u.stream = b.stream
       WHERE b.last_seq - u.n <> u.expected;
       IF moved IS NOT NULL THEN
         -- another writer numbered in these streams since the writer learnt their seqs: nothing is kept
         RAISE EXCEPTION 'stream seqs moved since they were read' USING ERRCODE = 'QXS01', DETAIL = moved::text;
       END IF;
       INSERT INTO events (stream, seq, event, envelope, created_at)
       SELECT * FROM unnest(e_stream, e_seq, e_event, e_envelope, e_created);
     END IF;
   END
   $fn$;`,
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

