/** The latest market-update of each commodity, kept so subscribers get a price at once, even after a restart. */
import type { Sqlite } from './database.js';
import type { MarketSnapshot } from '../store.js';

export class MarketSnapshotStore {
  private readonly upsert;
  private readonly selectAll;
  private readonly saveMany;

  constructor(db: Sqlite) {
    // an older snapshot never replaces a newer one
    this.upsert = db.prepare(
      `INSERT INTO market_snapshots (commodity, seq, envelope, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (commodity) DO UPDATE SET seq = excluded.seq, envelope = excluded.envelope, updated_at = excluded.updated_at
       WHERE excluded.seq > market_snapshots.seq`,
    );
    this.selectAll = db.prepare<[], MarketSnapshot>('SELECT commodity, seq, envelope, updated_at AS updatedAt FROM market_snapshots');
    this.saveMany = db.transaction((snapshots: readonly MarketSnapshot[]) => {
      for (const s of snapshots) this.upsert.run(s.commodity, s.seq, s.envelope, s.updatedAt);
    });
  }

  saveAll(snapshots: readonly MarketSnapshot[]): void {
    if (snapshots.length) this.saveMany(snapshots);
  }

  loadAll(): MarketSnapshot[] {
    return this.selectAll.all();
  }
}
