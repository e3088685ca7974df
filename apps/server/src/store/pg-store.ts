/**
 * The cluster store: PostgreSQL through `pg` (a Pool for reads and unfenced writes). Versioned
 * migrations run at open under an advisory lock, so nodes starting together do not race. A
 * commit is one transaction: the journal, the events (numbered per stream through `stream_seqs`,
 * whose row lock is held to the commit, so several writers never reuse or skip a seq, and when
 * seq N is visible every seq before it is too) and the market snapshots. A fenced commit checks
 * the engine leader's term in the same transaction and throws FencedError when it is stale.
 */
import pg from 'pg';
import type { JournalRecord, OrderRecord, TradeRecord } from '@qx/engine';
import type { DataEventName } from '@qx/protocol';
import {
  FencedError,
  marketStream,
  RESTORE_FINISHED_ORDERS,
  type Fence,
  type LoggedEvent,
  type MarketSnapshot,
  type OrderQuery,
  type StepWrite,
  type Store,
  type TradeQuery,
} from './store.js';
import { CountingClient } from './pg-counting-client.js';
import { backendErrors } from '../metrics.js';

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
];

/** BIGINT (int8) columns come back as strings by default: seqs and times here fit a double exactly. */
function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`BIGINT ${value} is beyond Number.MAX_SAFE_INTEGER`);
  return n;
}

/** Per-connection type parsers (not pg's global ones, which other code in the process may rely on). */
export const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === (pg.types.builtins.INT8 as number) && format !== 'binary') return parseInt8;
    return pg.types.getTypeParser(oid, format ?? 'text') as unknown;
  }) as pg.CustomTypesConfig['getTypeParser'],
};

export interface PgStoreOptions {
  connectionString: string;
  /** pool size (default 10) */
  max?: number | undefined;
  /** identifies the node in pg_stat_activity */
  applicationName?: string | undefined;
}

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

interface EventRow {
  stream: string;
  seq: number;
  event: string;
  envelope: string;
  created_at: number;
}

const toLogged = (r: EventRow): LoggedEvent => ({ stream: r.stream, seq: r.seq, event: r.event as DataEventName, envelope: r.envelope, createdAt: r.created_at });

/** Serializes async work (transactions on one connection must not interleave). */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

export class PgStore implements Store {
  readonly kind = 'postgres' as const;
  private closed = false;

  private constructor(readonly pool: pg.Pool) {}

  /** Connects, applies pending migrations, and returns the store. */
  static async open(options: PgStoreOptions): Promise<PgStore> {
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.max ?? 10,
      application_name: options.applicationName ?? 'quantenergx-realtime',
      types: pgTypes,
      Client: CountingClient,
    });
    // an idle client that errors (the server went away) must not crash the process: the next query fails instead
    pool.on('error', () => backendErrors.postgres.inc());
    try {
      const client = await pool.connect();
      try {
        await migratePg(client);
      } finally {
        client.release();
      }
    } catch (err) {
      await pool.end();
      throw err;
    }
    return new PgStore(pool);
  }

  /** Connection settings for a dedicated client (the engine leadership's) with this store's type parsers. */
  static clientConfig(connectionString: string, applicationName = 'quantenergx-engine'): pg.ClientConfig {
    return { connectionString, application_name: applicationName, types: pgTypes };
  }

  commit(write: StepWrite, fence?: Fence): Promise<LoggedEvent[]> {
    return this.inTransaction(async (client) => commitOn(client, write, fence));
  }

  /**
   * A store whose commits run on `client` (the engine leader's connection, which holds the
   * leadership lock), one at a time — through `mutex`, which whoever else uses the connection
   * (the leadership's heartbeat) shares; its reads use the pool. When that connection is lost,
   * commits fail rather than move to another connection.
   */
  withWriter(client: pg.ClientBase, mutex = new Mutex()): Store {
    const commit = (write: StepWrite, fence?: Fence): Promise<LoggedEvent[]> =>
      mutex.run(async () => {
        await client.query('BEGIN');
        try {
          const logged = await commitOn(client, write, fence);
          await client.query('COMMIT');
          return logged;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      });
    return {
      kind: 'postgres',
      commit,
      readEvents: (s, a, l) => this.readEvents(s, a, l),
      lastSeq: (s) => this.lastSeq(s),
      pruneEvents: (c) => this.pruneEvents(c),
      loadForRestore: () => this.loadForRestore(),
      loadMarketSnapshots: () => this.loadMarketSnapshots(),
      order: (id) => this.order(id),
      orders: (q) => this.orders(q),
      trades: (q) => this.trades(q),
      // the writer's connection belongs to its owner (the leadership); the pool to this store
      close: () => Promise.resolve(),
    };
  }

  async readEvents(stream: string, afterSeq: number, limit: number): Promise<LoggedEvent[]> {
    const { rows } = await this.pool.query<EventRow>(
      'SELECT stream, seq, event, envelope, created_at FROM events WHERE stream = $1 AND seq > $2 ORDER BY seq LIMIT $3',
      [stream, afterSeq, limit],
    );
    return rows.map(toLogged);
  }

  /** Events of every stream created at or after `sinceMs`, by stream then seq (a new engine leader republishes them). */
  async eventsSince(sinceMs: number, limit: number): Promise<LoggedEvent[]> {
    const { rows } = await this.pool.query<EventRow>(
      'SELECT stream, seq, event, envelope, created_at FROM events WHERE created_at >= $1 ORDER BY stream, seq LIMIT $2',
      [sinceMs, limit],
    );
    return rows.map(toLogged);
  }

  /**
   * The stream's newest seq. The calls of one turn are asked together, in one query: a connect or
   * resume storm asks for thousands of streams at once, and one round trip each would queue them
   * behind the pool.
   */
  lastSeq(stream: string): Promise<number> {
    let batch = this.lastSeqBatch;
    if (!batch) {
      batch = this.lastSeqBatch = new Map();
      setImmediate(() => void this.readLastSeqs());
    }
    let waiting = batch.get(stream);
    if (!waiting) batch.set(stream, (waiting = []));
    return new Promise<number>((resolve, reject) => waiting.push({ resolve, reject }));
  }

  private lastSeqBatch: Map<string, { resolve: (seq: number) => void; reject: (err: Error) => void }[]> | null = null;

  private async readLastSeqs(): Promise<void> {
    const batch = this.lastSeqBatch;
    this.lastSeqBatch = null;
    if (!batch) return;
    const streams = [...batch.keys()];
    // at most a few thousand names per query
    for (let i = 0; i < streams.length; i += 2000) {
      const chunk = streams.slice(i, i + 2000);
      try {
        const { rows } = await this.pool.query<{ stream: string; last_seq: number }>('SELECT stream, last_seq FROM stream_seqs WHERE stream = ANY($1::text[])', [chunk]);
        const found = new Map(rows.map((r) => [r.stream, r.last_seq]));
        for (const s of chunk) for (const w of batch.get(s) ?? []) w.resolve(found.get(s) ?? 0);
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        for (const s of chunk) for (const w of batch.get(s) ?? []) w.reject(error);
      }
    }
  }

  async pruneEvents(cutoffMs: number): Promise<number> {
    // the newest event of each stream stays (stream_seqs carries the numbering in any case)
    const result = await this.pool.query(
      'DELETE FROM events e USING stream_seqs s WHERE e.stream = s.stream AND e.created_at < $1 AND e.seq < s.last_seq',
      [cutoffMs],
    );
    return result.rowCount ?? 0;
  }

  async loadForRestore(): Promise<JournalRecord[]> {
    // one snapshot of everything: the journal must be read as of one moment
    return this.inTransaction(async (client) => {
      await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const records: JournalRecord[] = [];
      const sessions = (await client.query<{ record: { commodity: string; startedAt: number; referencePriceTicks: number } }>('SELECT record FROM sessions')).rows;
      let sessionStart = Number.MAX_SAFE_INTEGER;
      for (const { record } of sessions) {
        sessionStart = Math.min(sessionStart, record.startedAt);
        records.push({ kind: 'session', session: record });
      }
      const orders = await client.query<{ record: OrderRecord }>(
        `SELECT record FROM (
           SELECT record, priority FROM orders WHERE status IN ('new', 'partially_filled')
           UNION
           SELECT record, priority FROM (SELECT record, priority FROM orders ORDER BY priority DESC LIMIT $1) newest
         ) o ORDER BY priority`,
        [RESTORE_FINISHED_ORDERS],
      );
      for (const { record } of orders.rows) records.push({ kind: 'order', order: record });
      // this session's trades (last price, volume) and the newest one (the trade id counter)
      const trades = await client.query<{ record: TradeRecord; seq: number }>(
        `SELECT record, seq FROM trades WHERE executed_at >= $1
         UNION SELECT record, seq FROM (SELECT record, seq FROM trades ORDER BY seq DESC LIMIT 1) newest`,
        [sessions.length ? sessionStart : Number.MAX_SAFE_INTEGER],
      );
      const parsed = trades.rows.map((r) => r.record).sort((a, b) => a.seq - b.seq);
      for (const trade of parsed) records.push({ kind: 'trade', trade });
      for (const { record } of (await client.query<{ record: never }>('SELECT record FROM positions')).rows) records.push({ kind: 'position', position: record });
      for (const { record } of (await client.query<{ record: never }>('SELECT record FROM compliance_levels')).rows) {
        records.push({ kind: 'compliance', compliance: record });
      }
      return records;
    });
  }

  async loadMarketSnapshots(): Promise<MarketSnapshot[]> {
    const { rows } = await this.pool.query<MarketSnapshot>('SELECT commodity, seq, envelope, updated_at AS "updatedAt" FROM market_snapshots');
    return rows;
  }

  async order(id: string): Promise<OrderRecord | null> {
    const { rows } = await this.pool.query<{ record: OrderRecord }>('SELECT record FROM orders WHERE id = $1', [id]);
    return rows[0]?.record ?? null;
  }

  async orders(q: OrderQuery): Promise<OrderRecord[]> {
    const args: (string | number)[] = [q.userId];
    const where = ['user_id = $1'];
    if (q.status === 'open') where.push(`status IN ('new', 'partially_filled')`);
    else if (q.status) where.push(`status = $${args.push(q.status)}`);
    if (q.commodity) where.push(`commodity = $${args.push(q.commodity)}`);
    if (q.before !== undefined) where.push(`priority < $${args.push(q.before)}`);
    const limit = `$${args.push(q.limit)}`;
    const { rows } = await this.pool.query<{ record: OrderRecord }>(`SELECT record FROM orders WHERE ${where.join(' AND ')} ORDER BY priority DESC LIMIT ${limit}`, args);
    return rows.map((r) => r.record);
  }

  async trades(q: TradeQuery): Promise<TradeRecord[]> {
    const args: (string | number)[] = [q.userId];
    const where = ['user_id = $1'];
    if (q.commodity) where.push(`commodity = $${args.push(q.commodity)}`);
    if (q.before !== undefined) where.push(`seq < $${args.push(q.before)}`);
    const limit = `$${args.push(q.limit)}`;
    const { rows } = await this.pool.query<{ record: TradeRecord }>(`SELECT record FROM trades WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ${limit}`, args);
    return rows.map((r) => r.record);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private async inTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      try {
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
          broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
        });
        throw err;
      }
    } catch (err) {
      // a failed BEGIN/COMMIT may mean the connection is gone: do not hand it out again
      broken ??= err instanceof FencedError ? undefined : asError(err);
      throw err;
    } finally {
      client.release(broken);
    }
  }
}

function asError(err: unknown): Error | undefined {
  // errors the server reported (a constraint, a raised exception) leave the connection usable
  if (err instanceof Error && 'severity' in err) return undefined;
  return err instanceof Error ? err : new Error(String(err));
}

/** The statements of one commit, inside a transaction already begun on `client`. */
async function commitOn(client: pg.ClientBase, write: StepWrite, fence: Fence | undefined): Promise<LoggedEvent[]> {
  if (fence) {
    // FOR SHARE: a take-over (which raises the term) waits for this commit, and this one sees a raised term
    const { rows } = await client.query<{ term: number }>('SELECT term FROM engine_leader WHERE id = 1 FOR SHARE');
    const current = rows[0]?.term ?? null;
    if (current !== fence.term) throw new FencedError(fence.term, current);
  }
  if (write.journal?.length) await persistJournal(client, write.journal);
  return appendEvents(client, write);
}

/** Numbers the events and market-updates (stream_seqs), then writes the events and the latest snapshot per commodity. */
async function appendEvents(client: pg.ClientBase, write: StepWrite): Promise<LoggedEvent[]> {
  const market = write.market ?? [];
  if (write.events.length === 0 && market.length === 0) return [];
  const counts = new Map<string, number>();
  for (const e of write.events) counts.set(e.stream, (counts.get(e.stream) ?? 0) + 1);
  for (const m of market) {
    const stream = marketStream(m.commodity);
    counts.set(stream, (counts.get(stream) ?? 0) + 1);
  }
  // rows locked in one order (sorted), so two writers of the same streams cannot deadlock
  const streams = [...counts.keys()].sort();
  const { rows } = await client.query<{ stream: string; last_seq: number }>(
    `INSERT INTO stream_seqs AS s (stream, last_seq)
     SELECT * FROM unnest($1::text[], $2::bigint[])
     ON CONFLICT (stream) DO UPDATE SET last_seq = s.last_seq + excluded.last_seq
     RETURNING stream, last_seq`,
    [streams, streams.map((s) => counts.get(s) as number)],
  );
  const next = new Map<string, number>();
  for (const r of rows) next.set(r.stream, r.last_seq - (counts.get(r.stream) as number) + 1);
  const take = (stream: string): number => {
    const seq = next.get(stream) as number;
    next.set(stream, seq + 1);
    return seq;
  };
  const logged = write.events.map((e): LoggedEvent => {
    const seq = take(e.stream);
    return { stream: e.stream, seq, event: e.event, envelope: e.render(seq), createdAt: e.createdAt };
  });
  const latest = new Map<string, MarketSnapshot>();
  const marketLogged = market.map((m): LoggedEvent => {
    const stream = marketStream(m.commodity);
    const seq = take(stream);
    const envelope = m.render(seq);
    latest.set(m.commodity, { commodity: m.commodity, seq, envelope, updatedAt: m.createdAt });
    return { stream, seq, event: 'market-update', envelope, createdAt: m.createdAt };
  });
  if (logged.length) {
    await client.query(
      `INSERT INTO events (stream, seq, event, envelope, created_at)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[])`,
      [logged.map((e) => e.stream), logged.map((e) => e.seq), logged.map((e) => e.event), logged.map((e) => e.envelope), logged.map((e) => e.createdAt)],
    );
  }
  if (latest.size) {
    const snaps = [...latest.values()];
    await client.query(
      `INSERT INTO market_snapshots (commodity, seq, envelope, updated_at)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[])
       ON CONFLICT (commodity) DO UPDATE SET seq = excluded.seq, envelope = excluded.envelope, updated_at = excluded.updated_at`,
      [snaps.map((m) => m.commodity), snaps.map((m) => m.seq), snaps.map((m) => m.envelope), snaps.map((m) => m.updatedAt)],
    );
  }
  return [...logged, ...marketLogged];
}

async function persistJournal(client: pg.ClientBase, journal: readonly JournalRecord[]): Promise<void> {
  // the last state of each row in the step wins, as with one upsert after another; a trade is written once
  const orders = new Map<string, OrderRecord>();
  const trades = new Map<string, TradeRecord>();
  const positions = new Map<string, object & { userId: string; commodity: string }>();
  const compliance = new Map<string, object & { userId: string; commodity: string }>();
  const sessions = new Map<string, object & { commodity: string }>();
  for (const r of journal) {
    switch (r.kind) {
      case 'order':
        orders.set(r.order.id, r.order);
        break;
      case 'trade': {
        const key = `${r.trade.id}\u0000${r.trade.userId}`;
        if (!trades.has(key)) trades.set(key, r.trade);
        break;
      }
      case 'position':
        positions.set(`${r.position.userId}\u0000${r.position.commodity}`, r.position);
        break;
      case 'compliance':
        compliance.set(`${r.compliance.userId}\u0000${r.compliance.commodity}`, r.compliance);
        break;
      case 'session':
        sessions.set(r.session.commodity, r.session);
        break;
    }
  }
  if (orders.size) {
    const o = [...orders.values()];
    await client.query(
      `INSERT INTO orders (id, priority, user_id, commodity, status, client_order_id, record)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[])
       ON CONFLICT (id) DO UPDATE SET status = excluded.status, record = excluded.record`,
      [o.map((x) => x.id), o.map((x) => x.priority), o.map((x) => x.userId), o.map((x) => x.commodity), o.map((x) => x.status), o.map((x) => x.clientOrderId), o.map((x) => JSON.stringify(x))],
    );
  }
  if (trades.size) {
    const t = [...trades.values()];
    await client.query(
      `INSERT INTO trades (id, user_id, seq, commodity, executed_at, record)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::jsonb[])
       ON CONFLICT (id, user_id) DO NOTHING`,
      [t.map((x) => x.id), t.map((x) => x.userId), t.map((x) => x.seq), t.map((x) => x.commodity), t.map((x) => x.executedAt), t.map((x) => JSON.stringify(x))],
    );
  }
  for (const [table, rows] of [['positions', positions], ['compliance_levels', compliance]] as const) {
    if (!rows.size) continue;
    const v = [...rows.values()];
    await client.query(
      `INSERT INTO ${table} (user_id, commodity, record) SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])
       ON CONFLICT (user_id, commodity) DO UPDATE SET record = excluded.record`,
      [v.map((x) => x.userId), v.map((x) => x.commodity), v.map((x) => JSON.stringify(x))],
    );
  }
  if (sessions.size) {
    const v = [...sessions.values()];
    await client.query(
      `INSERT INTO sessions (commodity, record) SELECT * FROM unnest($1::text[], $2::jsonb[])
       ON CONFLICT (commodity) DO UPDATE SET record = excluded.record`,
      [v.map((x) => x.commodity), v.map((x) => JSON.stringify(x))],
    );
  }
}
