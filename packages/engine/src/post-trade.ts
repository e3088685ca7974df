import { DataEvent } from '@qx/protocol';
import type { ComplianceMonitor } from './compliance-monitor.js';
import type { MarketStatusBoard } from './market-status.js';
import type { OperationBatch } from './operation-batch.js';
import type { Position } from './position.js';
import { positionRecord } from './records.js';
import type { VelocityGuard } from './velocity-guard.js';
import type { VolatilityMonitor } from './volatility-monitor.js';

/**
 * What follows an operation's fills, once per operation: each changed position is journaled and
 * re-checked against the compliance thresholds (an alert per upward crossing), and the traded
 * market's last price goes to the volatility monitor and the velocity guard. A velocity breach
 * halts the commodity (journaled, a `market-status` change) and its `market_volatility` alert
 * (critical, `details.halted`/`until`) replaces the volatility monitor's for that operation.
 */
export class PostTradeChecks {
  constructor(
    private readonly compliance: ComplianceMonitor,
    private readonly volatility: VolatilityMonitor | null,
    private readonly velocity: VelocityGuard | null,
    private readonly status: MarketStatusBoard,
  ) {}

  run(b: OperationBatch): void {
    for (const p of b.positions) this.afterPositionChange(b, p);
    const traded = b.traded;
    if (traded === null || traded.lastTicks === null) return;
    const price = traded.grid.fromTicks(traded.lastTicks);
    let alert = this.volatility === null ? null : this.volatility.observe(traded.symbol, price, b.now);
    const breach = this.velocity === null ? null : this.velocity.observe(traded.symbol, price, b.now);
    if (breach !== null && this.velocity !== null) {
      const until = b.now + this.velocity.options.haltMs;
      b.addStatus(this.status.halt(traded.symbol, this.velocity.haltReason(breach), until, b.now));
      alert = this.velocity.haltAlert(traded.symbol, breach, b.now, until);
    }
    if (alert !== null) b.events.push({ event: DataEvent.SystemAlert, payload: alert });
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
