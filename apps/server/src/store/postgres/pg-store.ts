/**
 * The cluster store: PostgreSQL through `pg` (a Pool for reads and unfenced writes; the engine
 * leader commits on its own connection, see `withWriter`). The schema is migrated at open
 * (migrations.ts). A commit is one transaction (step-commit.ts); a fenced commit checks the engine
 * leader's term in it and throws FencedError when it is stale.
 */
import pg from 'pg';
import type { JournalRecord, OrderRecord, TradeRecord } from '@qx/engine';
import type { DataEventName } from '@qx/protocol';
import { PgMarketTrades } from './pg-market-trades.js';
import { migratePg } from './migrations.js';
import { pgTypes } from './pg-types.js';
import { Mutex } from './mutex.js';
import { StepCommitter } from './step-commit.js';
import { readForRestore } from './restore.js';
import { CountingClient } from './pg-counting-client.js';
import { backendErrors } from '../../metrics.js';
import {
  FencedError,
  type Fence,
  type LoggedEvent,
  type MarketSnapshot,
  type OrderQuery,
  type StepWrite,
  type Store,
  type TradeQuery,
} from '../store.js';

export interface PgStoreOptions {
  connectionString: string;
  /** pool size (default 10) */
  max?: number | undefined;
  /** identifies the node in pg_stat_activity */
  applicationName?: string | undefined;
}

interface EventRow {
  stream: string;
  seq: number;
  event: string;
  envelope: string;
  created_at: number;
}

const toLogged = (r: EventRow): LoggedEvent => ({ stream: r.stream, seq: r.seq, event: r.event as DataEventName, envelope: r.envelope, createdAt: r.created_at });

export class PgStore implements Store {
  readonly kind = 'postgres' as const;
  readonly tape: PgMarketTrades;
  private readonly steps = new StepCommitter();
  private closed = false;

  private constructor(readonly pool: pg.Pool) {
    this.tape = new PgMarketTrades(pool);
  }

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

  /** One statement: its own transaction, on any of the pool's connections. */
  commit(write: StepWrite, fence?: Fence): Promise<LoggedEvent[]> {
    return this.steps.commit({ query: this.pool, transaction: (fn) => this.inTransaction(fn) }, write, fence);
  }

  /**
   * A store whose commits run on `client` (the engine leader's connection, which holds the
   * leadership lock), one at a time — through `mutex`, which whoever else uses the connection
   * (the leadership's heartbeat) shares; its reads use the pool. When that connection is lost,
   * commits fail rather than move to another connection.
   */
  withWriter(client: pg.ClientBase, mutex = new Mutex()): Store {
    const commit = (write: StepWrite, fence?: Fence): Promise<LoggedEvent[]> =>
      mutex.run(() => this.steps.commit({ query: client, transaction: (fn) => transactionOn(client, fn) }, write, fence));
    return {
      kind: 'postgres',
      commit,
      saveMarketSnapshots: (s) => this.saveMarketSnapshots(s),
      tape: this.tape,
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

  /** Keeps each snapshot unless the one kept is newer (an old leader's late write never wins). */
  async saveMarketSnapshots(snapshots: readonly MarketSnapshot[]): Promise<void> {
    if (snapshots.length === 0) return;
    await this.pool.query(
      `INSERT INTO market_snapshots AS m (commodity, seq, envelope, updated_at)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[])
       ON CONFLICT (commodity) DO UPDATE SET seq = excluded.seq, envelope = excluded.envelope, updated_at = excluded.updated_at
       WHERE excluded.seq > m.seq`,
      [snapshots.map((m) => m.commodity), snapshots.map((m) => m.seq), snapshots.map((m) => m.envelope), snapshots.map((m) => m.updatedAt)],
    );
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
    return this.inTransaction((client) => readForRestore(client));
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

  private async inTransaction<T>(fn: (client: pg.ClientBase) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      return await transactionOn(client, fn, (rollbackErr) => {
        broken = rollbackErr;
      });
    } catch (err) {
      // a failed BEGIN/COMMIT may mean the connection is gone: do not hand it out again
      broken ??= err instanceof FencedError ? undefined : asError(err);
      throw err;
    } finally {
      client.release(broken);
    }
  }
}

/** `fn` in a transaction on `client`; a ROLLBACK that fails too (the connection is gone) is told to `rollbackFailed`. */
async function transactionOn<T>(client: pg.ClientBase, fn: (client: pg.ClientBase) => Promise<T>, rollbackFailed?: (err: Error) => void): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackErr: unknown) => rollbackFailed?.(rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr))));
    throw err;
  }
}

function asError(err: unknown): Error | undefined {
  // errors the server reported (a constraint, a raised exception) leave the connection usable
  if (err instanceof Error && 'severity' in err) return undefined;
  return err instanceof Error ? err : new Error(String(err));
}

