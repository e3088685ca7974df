/** The latest market-update of each commodity, kept so subscribers get a price at once, even after a restart. */
import type { Sqlite } from './database.js';
import type { MarketSnapshot } from './store.js';

export class MarketSnapshotStore {
  private readonly upsert;
  private readonly selectAll;

  constructor(db: Sqlite) {
    this.upsert = db.prepare(
      `INSERT INTO market_snapshots (commodity, seq, envelope, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (commodity) DO UPDATE SET seq = excluded.seq, envelope = excluded.envelope, updated_at = excluded.updated_at`,
    );
    this.selectAll = db.prepare<[], MarketSnapshot>('SELECT commodity, seq, envelope, updated_at AS updatedAt FROM market_snapshots');
  }

  save(snapshot: MarketSnapshot): void {
    this.upsert.run(snapshot.commodity, snapshot.seq, snapshot.envelope, snapshot.updatedAt);
  }

  loadAll(): MarketSnapshot[] {
    return this.selectAll.all();
  }
}
