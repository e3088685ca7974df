/**
 * One step's commit as ONE statement, one round trip to PostgreSQL (`qx_commit_step`, a function
 * the migrations create): the leader's term checked first under FOR SHARE (fencing), then the
 * journal (orders, trades, positions, compliance levels, sessions, trading controls), the tape's
 * prints and the events, in the statement's own transaction.
 *
 * The writer numbers the events itself, from the last seq of each stream it knows (learnt with one
 * read the first time it writes a stream), so that it renders each envelope before it sends it.
 * The function checks those numbers against `stream_seqs` under its row lock (held to the commit,
 * so several writers never reuse or skip a seq, and when seq N is visible every seq before it is
 * too); when another writer has numbered in a stream meanwhile, nothing is written, the function
 * says where each stream stands, and the commit is numbered and sent again.
 */
import type pg from 'pg';
import type { JournalRecord, OrderRecord, TradeRecord } from '@qx/engine';
import type { TapeEntry } from '../tape.js';
import { controlRow, type ControlRow } from '../control-records.js';
import { FencedError, type Fence, type LoggedEvent, type StepWrite } from '../store.js';

const COMMIT_STEP = `SELECT qx_commit_step(${[
  'bigint',
  ...['text', 'bigint', 'text', 'text', 'text', 'text', 'jsonb'],
  ...['text', 'text', 'bigint', 'text', 'bigint', 'jsonb'],
  ...['text', 'text', 'jsonb'],
  ...['text', 'text', 'jsonb'],
  ...['text', 'jsonb'],
  ...['text', 'text', 'jsonb'],
  ...['text', 'bigint', 'text', 'bigint', 'bigint', 'text', 'bigint'],
  ...['text', 'bigint', 'bigint'],
  ...['text', 'bigint', 'text', 'text', 'bigint'],
]
  .map((type, i) => (i === 0 ? `$1::${type}` : `$${i + 1}::${type}[]`))
  .join(', ')})`;

/** SQLSTATEs the function raises: its term is not the leader's; a stream's seq moved since it was read. */
const FENCED = 'QXF01';
const SEQS_MOVED = 'QXS01';
/** streams whose last seq a writer remembers (the least recently written are forgotten, then read again) */
const KNOWN_STREAMS = 200_000;

/** a connection, or the pool (each statement on whichever connection is free) */
type Queryable = pg.ClientBase | pg.Pool;

/** Where a commit runs: a statement on its own, or a transaction (BEGIN … COMMIT, ROLLBACK when `fn` throws). */
export interface CommitRoute {
  query: Queryable;
  transaction<T>(fn: (client: pg.ClientBase) => Promise<T>): Promise<T>;
}

interface PgError {
  code?: string;
  detail?: string;
}

interface Plan {
  write: StepWrite;
  fence: Fence | undefined;
  columns: unknown[];
  /** the step's streams, sorted (rows are locked in this order, so two writers cannot deadlock) */
  streams: string[];
  counts: Map<string, number>;
}

/**
 * The commits of one store: the last seq of each stream it has written, and the statement. A stream
 * another writer numbered in meanwhile is caught by the function's check: the step is then
 * numbered again under the streams' row locks (a transaction of a few statements), so it always
 * goes through.
 */
export class StepCommitter {
  private readonly known = new Map<string, number>();

  async commit(route: CommitRoute, write: StepWrite, fence: Fence | undefined): Promise<LoggedEvent[]> {
    const counts = new Map<string, number>();
    for (const e of write.events) counts.set(e.stream, (counts.get(e.stream) ?? 0) + 1);
    const plan: Plan = { write, fence, columns: [...journalColumns(write.journal ?? []), ...tapeColumns(write.tape ?? [])], streams: [...counts.keys()].sort(), counts };
    await this.learn(route.query, plan.streams);
    try {
      return await this.send(route.query, plan);
    } catch (err) {
      if ((err as PgError).code !== SEQS_MOVED) throw err;
    }
    // contended: read the seqs under the rows' locks, held to the commit
    return route.transaction(async (client) => {
      if (fence) await checkTerm(client, fence);
      const { rows } = await client.query<{ stream: string; last_seq: number }>(
        `INSERT INTO stream_seqs AS s (stream, last_seq) SELECT unnest($1::text[]), 0
         ON CONFLICT (stream) DO UPDATE SET last_seq = s.last_seq RETURNING stream, last_seq`,
        [plan.streams],
      );
      for (const r of rows) this.remember(r.stream, r.last_seq);
      return this.send(client, plan);
    });
  }

  /** Numbers and renders the events from the seqs known, and sends the step as one statement. */
  private async send(client: Queryable, { write, fence, columns, streams, counts }: Plan): Promise<LoggedEvent[]> {
    const expected = streams.map((s) => this.known.get(s) as number);
    const next = new Map(streams.map((s, i) => [s, (expected[i] as number) + 1]));
    const logged = write.events.map((e): LoggedEvent => {
      const seq = next.get(e.stream) as number;
      next.set(e.stream, seq + 1);
      return { stream: e.stream, seq, event: e.event, envelope: e.render(seq), createdAt: e.createdAt };
    });
    try {
      await client.query(COMMIT_STEP, [
        fence?.term ?? null,
        ...columns,
        streams,
        expected,
        streams.map((s) => counts.get(s) as number),
        logged.map((e) => e.stream),
        logged.map((e) => e.seq),
        logged.map((e) => e.event),
        logged.map((e) => e.envelope),
        logged.map((e) => e.createdAt),
      ]);
    } catch (err) {
      const { code, detail } = err as PgError;
      if (code === FENCED) throw new FencedError(fence?.term ?? 0, detail ? Number(detail) : null);
      // a stream moved: the caller numbers again from seqs read under the rows' locks (the function's
      // DETAIL says where each stream stood, for the log). Otherwise the outcome may be unknown (the
      // connection was lost at the commit): read these streams again next time.
      if (code !== SEQS_MOVED) for (const s of streams) this.known.delete(s);
      throw err;
    }
    for (const s of streams) this.remember(s, (next.get(s) as number) - 1);
    return logged;
  }

  /** Reads the last seq of the streams this writer does not know yet, in one query. */
  private async learn(client: Queryable, streams: readonly string[]): Promise<void> {
    const unknown = streams.filter((s) => !this.known.has(s));
    if (unknown.length === 0) return;
    const { rows } = await client.query<{ stream: string; last_seq: number }>('SELECT stream, last_seq FROM stream_seqs WHERE stream = ANY($1::text[])', [unknown]);
    const found = new Map(rows.map((r) => [r.stream, r.last_seq]));
    for (const s of unknown) this.remember(s, found.get(s) ?? 0);
  }

  private remember(stream: string, lastSeq: number): void {
    this.known.delete(stream);
    this.known.set(stream, lastSeq);
    if (this.known.size > KNOWN_STREAMS) this.known.delete(this.known.keys().next().value as string);
  }
}

/** FOR SHARE: a take-over (which raises the term) waits for this commit, and this one sees a raised term. */
async function checkTerm(client: pg.ClientBase, fence: Fence): Promise<void> {
  const { rows } = await client.query<{ term: number }>('SELECT term FROM engine_leader WHERE id = 1 FOR SHARE');
  const current = rows[0]?.term ?? null;
  if (current !== fence.term) throw new FencedError(fence.term, current);
}

/** The step's prints on the public tape (numbered by the trading core) as the function's columns. */
function tapeColumns(tape: readonly TapeEntry[]): unknown[] {
  return [
    tape.map((e) => e.commodity),
    tape.map((e) => e.tapeSeq),
    tape.map((e) => e.id),
    tape.map((e) => e.priceTicks),
    tape.map((e) => e.quantity),
    tape.map((e) => e.aggressor),
    tape.map((e) => e.executedAt),
  ];
}

/** The journal as the function's columns: orders, trades, positions, compliance levels, sessions, controls. */
function journalColumns(journal: readonly JournalRecord[]): unknown[] {
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
  const o = [...orders.values()];
  const t = [...trades.values()];
  const p = [...positions.values()];
  const c = [...compliance.values()];
  const s = [...sessions.values()];
  const k = [...controls.values()];
  return [
    ...[o.map((x) => x.id), o.map((x) => x.priority), o.map((x) => x.userId), o.map((x) => x.commodity), o.map((x) => x.status), o.map((x) => x.clientOrderId), o.map((x) => JSON.stringify(x))],
    ...[t.map((x) => x.id), t.map((x) => x.userId), t.map((x) => x.seq), t.map((x) => x.commodity), t.map((x) => x.executedAt), t.map((x) => JSON.stringify(x))],
    ...[p.map((x) => x.userId), p.map((x) => x.commodity), p.map((x) => JSON.stringify(x))],
    ...[c.map((x) => x.userId), c.map((x) => x.commodity), c.map((x) => JSON.stringify(x))],
    ...[s.map((x) => x.commodity), s.map((x) => JSON.stringify(x))],
    ...[k.map((x) => x.kind), k.map((x) => x.key), k.map((x) => JSON.stringify(x.record))],
  ];
}
