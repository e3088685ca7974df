import { DataEvent } from '@qx/protocol';
import type { ComplianceMonitor } from './compliance-monitor.js';
import type { OperationBatch } from './operation-batch.js';
import type { Position } from './position.js';
import { positionRecord } from './records.js';
import type { VolatilityMonitor } from './volatility-monitor.js';

/**
 * What follows an operation's fills, once per operation: each changed position is journaled and
 * re-checked against the compliance thresholds (an alert per upward crossing), and the traded
 * market's last price goes to the volatility monitor.
 */
export class PostTradeChecks {
  constructor(
    private readonly compliance: ComplianceMonitor,
    private readonly volatility: VolatilityMonitor | null,
  ) {}

  run(b: OperationBatch): void {
    for (const p of b.positions) this.afterPositionChange(b, p);
    const traded = b.traded;
    if (traded !== null && this.volatility !== null && traded.lastTicks !== null) {
      const alert = this.volatility.observe(traded.symbol, traded.grid.fromTicks(traded.lastTicks), b.now);
      if (alert !== null) b.events.push({ event: DataEvent.SystemAlert, payload: alert });
    }
  }

  private afterPositionChange(b: OperationBatch, position: Position): void {
    b.journal.push({ kind: 'position', position: positionRecord(position, b.now) });
    const check = this.compliance.afterPositionChange(position.userId, position.commodity, position.netQuantity, b.timestamp);
    if (check.levelChanged) {
      b.journal.push({
        kind: 'compliance',
        compliance: { userId: position.userId, commodity: position.commodity, level: check.level, updatedAt: b.now },
      });
    }
    if (check.alert !== null) b.events.push({ event: DataEvent.ComplianceAlert, userId: position.userId, payload: check.alert });
  }
}
