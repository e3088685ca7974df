/** The latest market-update of each commodity, kept so subscribers get a price at once, even after a restart. */
import type { Sqlite } from './database.js';
import type { MarketSnapshot } from './store.js';

export class MarketSnapshotStore {
  private readonly upsert;
  private readonly selectAll;
  private readonly selectSeq;
  private readonly lastSeqs = new Map<string, number>();

  constructor(db: Sqlite) {
    this.upsert = db.prepare(
      `INSERT INTO market_snapshots (commodity, seq, envelope, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (commodity) DO UPDATE SET seq = excluded.seq, envelope = excluded.envelope, updated_at = excluded.updated_at`,
    );
    this.selectSeq = db.prepare<[string], { seq: number }>('SELECT seq FROM market_snapshots WHERE commodity = ?');
    this.selectAll = db.prepare<[], MarketSnapshot>('SELECT commodity, seq, envelope, updated_at AS updatedAt FROM market_snapshots');
  }

  save(snapshot: MarketSnapshot): void {
    this.upsert.run(snapshot.commodity, snapshot.seq, snapshot.envelope, snapshot.updatedAt);
    this.lastSeqs.set(snapshot.commodity, snapshot.seq);
  }

  /** The seq of a commodity's latest market-update (0 if none): its numbering goes on from there. */
  lastSeq(commodity: string): number {
    let seq = this.lastSeqs.get(commodity);
    if (seq === undefined) {
      seq = this.selectSeq.get(commodity)?.seq ?? 0;
      this.lastSeqs.set(commodity, seq);
    }
    return seq;
  }

  /** Forgets the cached numbers (after a rolled-back transaction they may be ahead of the file). */
  resetCache(): void {
    this.lastSeqs.clear();
  }

  loadAll(): MarketSnapshot[] {
    return this.selectAll.all();
  }
}
