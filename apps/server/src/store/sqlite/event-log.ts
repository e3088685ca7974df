/**
 * The durable event log (a part of SqliteStore): every private event (and every system alert) is appended here, numbered
 * per stream, before it is emitted; a client that missed some reads them back by sequence number.
 */
import type { DataEventName } from '@qx/protocol';
import type { Sqlite } from './database.js';
import type { LoggedEvent } from '../store.js';

interface Row {
  stream: string;
  seq: number;
  event: string;
  envelope: string;
  created_at: number;
}

export class EventLog {
  private readonly lastSeqs = new Map<string, number>();
  private readonly insert;
  private readonly selectAfter;
  private readonly selectMax;
  private readonly deleteOld;

  constructor(private readonly db: Sqlite) {
    this.insert = db.prepare('INSERT INTO events (stream, seq, event, envelope, created_at) VALUES (?, ?, ?, ?, ?)');
    this.selectAfter = db.prepare<[string, number, number], Row>(
      'SELECT stream, seq, event, envelope, created_at FROM events WHERE stream = ? AND seq > ? ORDER BY seq LIMIT ?',
    );
    this.selectMax = db.prepare<[string], { seq: number | null }>('SELECT MAX(seq) AS seq FROM events WHERE stream = ?');
    // keeps the newest event of each stream, so numbering resumes after it even when all else is pruned
    this.deleteOld = db.prepare<[number]>(
      'DELETE FROM events WHERE created_at < ? AND seq < (SELECT MAX(e2.seq) FROM events e2 WHERE e2.stream = events.stream)',
    );
  }

  lastSeq(stream: string): number {
    let seq = this.lastSeqs.get(stream);
    if (seq === undefined) {
      seq = this.selectMax.get(stream)?.seq ?? 0;
      this.lastSeqs.set(stream, seq);
    }
    return seq;
  }

  /**
   * Appends one event; `render(seq)` builds the envelope JSON once its number is known. Throws
   * when the write fails, and then nothing is numbered or emitted.
   */
  append(stream: string, event: DataEventName, createdAt: number, render: (seq: number) => string): { seq: number; envelope: string } {
    const seq = this.lastSeq(stream) + 1;
    const envelope = render(seq);
    this.insert.run(stream, seq, event, envelope, createdAt);
    this.lastSeqs.set(stream, seq);
    return { seq, envelope };
  }

  read(stream: string, afterSeq: number, limit: number): LoggedEvent[] {
    return this.selectAfter.all(stream, afterSeq, limit).map((r) => ({
      stream: r.stream,
      seq: r.seq,
      event: r.event as DataEventName,
      envelope: r.envelope,
      createdAt: r.created_at,
    }));
  }

  /** Forgets the cached numbers (after a rolled-back transaction they may be ahead of the file). */
  resetCache(): void {
    this.lastSeqs.clear();
  }

  /** Deletes events older than `cutoffMs`; the numbering of each stream goes on regardless. */
  prune(cutoffMs: number): number {
    return this.deleteOld.run(cutoffMs).changes;
  }
}
