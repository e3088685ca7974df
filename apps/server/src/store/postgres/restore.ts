/**
 * Everything the engine needs to rebuild its state (see the engine's journal contract), read as of
 * one moment: open orders and the newest finished ones (clientOrderId retries stay idempotent),
 * this session's trades (last price, volume) and the newest (the trade id counter), positions,
 * compliance levels, sessions and trading controls.
 */
import type pg from 'pg';
import type { JournalRecord, OrderRecord, TradeRecord } from '@qx/engine';
import { controlRecord } from '../control-records.js';
import { RESTORE_FINISHED_ORDERS } from '../store.js';

/** Inside a transaction already begun on `client`. */
export async function readForRestore(client: pg.ClientBase): Promise<JournalRecord[]> {
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
  for (const row of (await client.query<{ kind: string; record: unknown }>('SELECT kind, record FROM trading_controls')).rows) {
    const record = controlRecord(row.kind, row.record);
    if (record) records.push(record);
  }
  return records;
}
