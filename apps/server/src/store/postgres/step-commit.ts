/**
 * One step's commit, inside a transaction already begun: the leader's term checked first (fencing),
 * then the journal (orders, trades, positions, compliance levels, sessions, trading controls), the
 * tape's prints and the events (numbered per stream through `stream_seqs`, whose row lock is held
 * to the commit, so several writers never reuse or skip a seq, and when seq N is visible every seq
 * before it is too).
 */
import type pg from 'pg';
import type { JournalRecord, OrderRecord, TradeRecord } from '@qx/engine';
import type { TapeEntry } from '../tape.js';
import { controlRow, type ControlRow } from '../control-records.js';
import { FencedError, type Fence, type LoggedEvent, type StepWrite } from '../store.js';

/** The statements of one commit, inside a transaction already begun on `client`. */
export async function commitOn(client: pg.ClientBase, write: StepWrite, fence: Fence | undefined): Promise<LoggedEvent[]> {
  if (fence) {
    // FOR SHARE: a take-over (which raises the term) waits for this commit, and this one sees a raised term
    const { rows } = await client.query<{ term: number }>('SELECT term FROM engine_leader WHERE id = 1 FOR SHARE');
    const current = rows[0]?.term ?? null;
    if (current !== fence.term) throw new FencedError(fence.term, current);
  }
  if (write.journal?.length) await persistJournal(client, write.journal);
  if (write.tape?.length) await insertTape(client, write.tape);
  return appendEvents(client, write);
}

/** The step's prints on the public tape (numbered by the trading core), in its transaction. */
async function insertTape(client: pg.ClientBase, entries: readonly TapeEntry[]): Promise<void> {
  await client.query(
    `INSERT INTO market_trades (commodity, seq, trade_id, price_ticks, quantity, aggressor, executed_at)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::bigint[])`,
    [
      entries.map((e) => e.commodity),
      entries.map((e) => e.tapeSeq),
      entries.map((e) => e.id),
      entries.map((e) => e.priceTicks),
      entries.map((e) => e.quantity),
      entries.map((e) => e.aggressor),
      entries.map((e) => e.executedAt),
    ],
  );
}

/** Numbers the events (stream_seqs) and writes them. */
async function appendEvents(client: pg.ClientBase, write: StepWrite): Promise<LoggedEvent[]> {
  if (write.events.length === 0) return [];
  const counts = new Map<string, number>();
  for (const e of write.events) counts.set(e.stream, (counts.get(e.stream) ?? 0) + 1);
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
  const logged = write.events.map((e): LoggedEvent => {
    const seq = next.get(e.stream) as number;
    next.set(e.stream, seq + 1);
    return { stream: e.stream, seq, event: e.event, envelope: e.render(seq), createdAt: e.createdAt };
  });
  await client.query(
    `INSERT INTO events (stream, seq, event, envelope, created_at)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[])`,
    [logged.map((e) => e.stream), logged.map((e) => e.seq), logged.map((e) => e.event), logged.map((e) => e.envelope), logged.map((e) => e.createdAt)],
  );
  return logged;
}

async function persistJournal(client: pg.ClientBase, journal: readonly JournalRecord[]): Promise<void> {
  // the last state of each row in the step wins, as with one upsert after another; a trade is written once
  const orders = new Map<string, OrderRecord>();
  const trades = new Map<string, TradeRecord>();
  const positions = new Map<string, object & { userId: string; commodity: string }>();
  const compliance = new Map<string, object & { userId: string; commodity: string }>();
  const sessions = new Map<string, object & { commodity: string }>();
  const controls = new Map<string, ControlRow>();
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
      default: {
        const row = controlRow(r);
        if (row) controls.set(`${row.kind}\u0000${row.key}`, row);
      }
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
  if (controls.size) {
    const v = [...controls.values()];
    await client.query(
      `INSERT INTO trading_controls (kind, key, record) SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])
       ON CONFLICT (kind, key) DO UPDATE SET record = excluded.record`,
      [v.map((x) => x.kind), v.map((x) => x.key), v.map((x) => JSON.stringify(x.record))],
    );
  }
}
