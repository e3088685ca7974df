/**
 * Orders, trades, positions, compliance levels and trading controls in the same SQLite file (a part of SqliteStore) as the event log, so
 * an operation's journal and its events commit in one transaction. Records are the engine's own
 * (integer ticks and units), stored as JSON beside the columns the queries filter on.
 */
import type { JournalRecord, OrderRecord, TradeRecord } from '@qx/engine';
import { migrate, type Sqlite } from './database.js';
import { controlRecord, controlRow } from '../control-records.js';
import { RESTORE_FINISHED_ORDERS, type OrderQuery, type TradeQuery } from '../store.js';

export type { OrderQuery, TradeQuery };

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE orders (
     id              TEXT PRIMARY KEY,
     priority        INTEGER NOT NULL,
     user_id         TEXT    NOT NULL,
     commodity       TEXT    NOT NULL,
     status          TEXT    NOT NULL,
     client_order_id TEXT,
     record          TEXT    NOT NULL
   );
   CREATE INDEX orders_by_user ON orders (user_id, priority);
   CREATE INDEX orders_open ON orders (status) WHERE status IN ('new', 'partially_filled');
   CREATE TABLE trades (
     id          TEXT    NOT NULL,
     user_id     TEXT    NOT NULL,
     seq         INTEGER NOT NULL,
     commodity   TEXT    NOT NULL,
     executed_at INTEGER NOT NULL,
     record      TEXT    NOT NULL,
     PRIMARY KEY (id, user_id)
   );
   CREATE INDEX trades_by_user ON trades (user_id, seq);
   CREATE INDEX trades_by_time ON trades (executed_at);
   CREATE TABLE positions (
     user_id   TEXT NOT NULL,
     commodity TEXT NOT NULL,
     record    TEXT NOT NULL,
     PRIMARY KEY (user_id, commodity)
   );
   CREATE TABLE compliance_levels (
     user_id   TEXT NOT NULL,
     commodity TEXT NOT NULL,
     record    TEXT NOT NULL,
     PRIMARY KEY (user_id, commodity)
   );
   CREATE TABLE sessions (
     commodity TEXT PRIMARY KEY,
     record    TEXT NOT NULL
   );`,
  // kill switches, dead-man's switch deadlines, market statuses (see control-records.ts)
  `CREATE TABLE trading_controls (
     kind   TEXT NOT NULL,
     key    TEXT NOT NULL,
     record TEXT NOT NULL,
     PRIMARY KEY (kind, key)
   );`,
];

export class TradingStore {
  private readonly upsertOrder;
  private readonly insertTrade;
  private readonly upsertPosition;
  private readonly upsertCompliance;
  private readonly upsertSession;
  private readonly upsertControl;
  private readonly selectOrder;

  constructor(private readonly db: Sqlite) {
    migrate(db, 'trading', MIGRATIONS);
    this.upsertOrder = db.prepare(
      `INSERT INTO orders (id, priority, user_id, commodity, status, client_order_id, record) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET status = excluded.status, record = excluded.record`,
    );
    this.insertTrade = db.prepare(
      'INSERT OR IGNORE INTO trades (id, user_id, seq, commodity, executed_at, record) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.upsertPosition = db.prepare(
      'INSERT INTO positions (user_id, commodity, record) VALUES (?, ?, ?) ON CONFLICT (user_id, commodity) DO UPDATE SET record = excluded.record',
    );
    this.upsertCompliance = db.prepare(
      'INSERT INTO compliance_levels (user_id, commodity, record) VALUES (?, ?, ?) ON CONFLICT (user_id, commodity) DO UPDATE SET record = excluded.record',
    );
    this.upsertSession = db.prepare('INSERT INTO sessions (commodity, record) VALUES (?, ?) ON CONFLICT (commodity) DO UPDATE SET record = excluded.record');
    this.upsertControl = db.prepare('INSERT INTO trading_controls (kind, key, record) VALUES (?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET record = excluded.record');
    this.selectOrder = db.prepare<[string], { record: string }>('SELECT record FROM orders WHERE id = ?');
  }

  /** Writes an operation's journal; call inside the transaction that also logs its events. */
  persist(journal: readonly JournalRecord[]): void {
    for (const r of journal) {
      switch (r.kind) {
        case 'order': {
          const o = r.order;
          this.upsertOrder.run(o.id, o.priority, o.userId, o.commodity, o.status, o.clientOrderId, JSON.stringify(o));
          break;
        }
        case 'trade': {
          const t = r.trade;
          this.insertTrade.run(t.id, t.userId, t.seq, t.commodity, t.executedAt, JSON.stringify(t));
          break;
        }
        case 'position':
          this.upsertPosition.run(r.position.userId, r.position.commodity, JSON.stringify(r.position));
          break;
        case 'compliance':
          this.upsertCompliance.run(r.compliance.userId, r.compliance.commodity, JSON.stringify(r.compliance));
          break;
        case 'session':
          this.upsertSession.run(r.session.commodity, JSON.stringify(r.session));
          break;
        default: {
          const row = controlRow(r);
          if (row) this.upsertControl.run(row.kind, row.key, JSON.stringify(row.record));
        }
      }
    }
  }

  /** Everything the engine needs to rebuild its state after a restart (see the engine's journal contract). */
  loadForRestore(): JournalRecord[] {
    const records: JournalRecord[] = [];
    const sessions = this.db.prepare<[], { record: string }>('SELECT record FROM sessions').all();
    let sessionStart = Number.MAX_SAFE_INTEGER;
    for (const row of sessions) {
      const session = JSON.parse(row.record) as { commodity: string; startedAt: number; referencePriceTicks: number };
      sessionStart = Math.min(sessionStart, session.startedAt);
      records.push({ kind: 'session', session });
    }
    const orders = this.db
      .prepare<[number], { record: string }>(
        `SELECT record FROM (
           SELECT record, priority FROM orders WHERE status IN ('new', 'partially_filled')
           UNION
           SELECT record, priority FROM (SELECT record, priority FROM orders ORDER BY priority DESC LIMIT ?)
         ) ORDER BY priority`,
      )
      .all(RESTORE_FINISHED_ORDERS);
    for (const row of orders) records.push({ kind: 'order', order: JSON.parse(row.record) as OrderRecord });
    // this session's trades (last price, volume) and the newest one (the trade id counter)
    const trades = this.db
      .prepare<[number], { record: string }>(
        `SELECT record FROM trades WHERE executed_at >= ?
         UNION SELECT record FROM (SELECT record FROM trades ORDER BY seq DESC LIMIT 1)`,
      )
      .all(sessions.length ? sessionStart : Number.MAX_SAFE_INTEGER);
    const parsedTrades = trades.map((row) => JSON.parse(row.record) as TradeRecord).sort((a, b) => a.seq - b.seq);
    for (const trade of parsedTrades) records.push({ kind: 'trade', trade });
    for (const row of this.db.prepare<[], { record: string }>('SELECT record FROM positions').all()) {
      records.push({ kind: 'position', position: JSON.parse(row.record) as never });
    }
    for (const row of this.db.prepare<[], { record: string }>('SELECT record FROM compliance_levels').all()) {
      records.push({ kind: 'compliance', compliance: JSON.parse(row.record) as never });
    }
    for (const row of this.db.prepare<[], { kind: string; record: string }>('SELECT kind, record FROM trading_controls').all()) {
      const record = controlRecord(row.kind, JSON.parse(row.record));
      if (record) records.push(record);
    }
    return records;
  }

  order(id: string): OrderRecord | null {
    const row = this.selectOrder.get(id);
    return row ? (JSON.parse(row.record) as OrderRecord) : null;
  }

  /** A user's orders, newest first; `before` is the priority to page back from. */
  orders(q: OrderQuery): OrderRecord[] {
    const where = ['user_id = ?'];
    const args: (string | number)[] = [q.userId];
    if (q.status === 'open') where.push(`status IN ('new', 'partially_filled')`);
    else if (q.status) {
      where.push('status = ?');
      args.push(q.status);
    }
    if (q.commodity) {
      where.push('commodity = ?');
      args.push(q.commodity);
    }
    if (q.before !== undefined) {
      where.push('priority < ?');
      args.push(q.before);
    }
    args.push(q.limit);
    return this.db
      .prepare<(string | number)[], { record: string }>(`SELECT record FROM orders WHERE ${where.join(' AND ')} ORDER BY priority DESC LIMIT ?`)
      .all(...args)
      .map((r) => JSON.parse(r.record) as OrderRecord);
  }

  /** A user's trades, newest first; `before` is the trade seq to page back from. */
  trades(q: TradeQuery): TradeRecord[] {
    const where = ['user_id = ?'];
    const args: (string | number)[] = [q.userId];
    if (q.commodity) {
      where.push('commodity = ?');
      args.push(q.commodity);
    }
    if (q.before !== undefined) {
      where.push('seq < ?');
      args.push(q.before);
    }
    args.push(q.limit);
    return this.db
      .prepare<(string | number)[], { record: string }>(`SELECT record FROM trades WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`)
      .all(...args)
      .map((r) => JSON.parse(r.record) as TradeRecord);
  }
}
