import type { Commodity, ComplianceAlertPayload } from '@qx/protocol';
import type { Side } from './types.js';

type Severity = ComplianceAlertPayload['severity'];

export interface ComplianceLimits {
  positionLimit: number;
  maxOrderSize: number;
}

export interface ComplianceThreshold {
  /** fraction of the position limit, e.g. 0.8 */
  utilization: number;
  severity: Severity;
}

export interface ComplianceConfig {
  /** per-user, per-commodity overrides of the catalogue's limits */
  users?: Record<string, Record<string, Partial<ComplianceLimits>>>;
  /** post-trade utilization thresholds; default 0.8 medium, 0.9 high, 0.95 critical */
  thresholds?: readonly ComplianceThreshold[];
}

export const DEFAULT_THRESHOLDS: readonly ComplianceThreshold[] = [
  { utilization: 0.8, severity: 'medium' },
  { utilization: 0.9, severity: 'high' },
  { utilization: 0.95, severity: 'critical' },
];

/** What the pre-trade check needs to know about the user's standing in the commodity. */
export interface ExposureSnapshot {
  userId: string;
  commodity: string;
  side: Side;
  quantity: number;
  netQuantity: number;
  openBuyQuantity: number;
  openSellQuantity: number;
  /** an amended order: what of `quantity` is already filled (in `netQuantity` already) */
  filledQuantity?: number;
}

export interface ComplianceRejection {
  reason: string;
  alert: ComplianceAlertPayload;
}

/**
 * Position limits and order-size limits per user and commodity. Pre-trade, `checkOrder` refuses
 * an order that is too large or that could take the position (counting open orders on the same
 * side) beyond the limit. Post-trade, `afterPositionChange` raises one alert per upward crossing
 * of a utilization threshold; falling back below a threshold re-arms it.
 */
export class ComplianceMonitor {
  private readonly commodities = new Map<string, Commodity>();
  private readonly thresholds: readonly ComplianceThreshold[];
  /** "user\0commodity" → thresholds currently crossed */
  private readonly levels = new Map<string, number>();

  constructor(
    commodities: readonly Commodity[],
    private readonly config: ComplianceConfig = {},
  ) {
    for (const c of commodities) this.commodities.set(c.symbol, c);
    this.thresholds = [...(config.thresholds ?? DEFAULT_THRESHOLDS)].sort((a, b) => a.utilization - b.utilization);
  }

  limitsFor(userId: string, commodity: string): ComplianceLimits {
    const c = this.commodities.get(commodity);
    const override = this.config.users?.[userId]?.[commodity];
    return {
      positionLimit: override?.positionLimit ?? c?.positionLimit ?? 0,
      maxOrderSize: override?.maxOrderSize ?? c?.maxOrderSize ?? 0,
    };
  }

  checkOrder(x: ExposureSnapshot, timestamp: string): ComplianceRejection | null {
    const limits = this.limitsFor(x.userId, x.commodity);
    const name = this.nameOf(x.commodity);
    if (x.quantity > limits.maxOrderSize) {
      const reason = `Order size ${x.quantity} exceeds the maximum order size ${limits.maxOrderSize} for ${name}`;
      return {
        reason,
        alert: this.alert('order_size', 'critical', reason, x.userId, timestamp, {
          currentPosition: x.netQuantity,
          limit: limits.maxOrderSize,
          utilization: ratio(x.quantity, limits.maxOrderSize),
          commodity: x.commodity,
          orderQuantity: x.quantity,
        }),
      };
    }
    const adding = x.quantity - (x.filledQuantity ?? 0);
    const projected = x.side === 'buy' ? x.netQuantity + x.openBuyQuantity + adding : x.netQuantity - x.openSellQuantity - adding;
    if (Math.abs(projected) > limits.positionLimit) {
      const reason = `Order would exceed the position limit of ${limits.positionLimit} for ${name} (projected position ${projected})`;
      return {
        reason,
        alert: this.alert('position_limit', 'critical', reason, x.userId, timestamp, {
          currentPosition: x.netQuantity,
          limit: limits.positionLimit,
          utilization: ratio(Math.abs(projected), limits.positionLimit),
          commodity: x.commodity,
          projectedPosition: projected,
        }),
      };
    }
    return null;
  }

  /**
   * Re-evaluates utilization after a position changed. Returns the alert to raise (at most one,
   * for the highest threshold newly crossed) and whether the stored level changed (to journal).
   */
  afterPositionChange(
    userId: string,
    commodity: string,
    netQuantity: number,
    timestamp: string,
  ): { alert: ComplianceAlertPayload | null; levelChanged: boolean; level: number } {
    const limit = this.limitsFor(userId, commodity).positionLimit;
    const exact = limit > 0 ? Math.abs(netQuantity) / limit : netQuantity === 0 ? 0 : Infinity;
    const utilization = ratio(Math.abs(netQuantity), limit);
    let level = 0;
    while (level < this.thresholds.length && exact >= (this.thresholds[level] as ComplianceThreshold).utilization) level++;
    const key = levelKey(userId, commodity);
    const previous = this.levels.get(key) ?? 0;
    if (level === previous) return { alert: null, levelChanged: false, level };
    if (level === 0) this.levels.delete(key);
    else this.levels.set(key, level);
    if (level < previous) return { alert: null, levelChanged: true, level };
    const threshold = this.thresholds[level - 1] as ComplianceThreshold;
    const name = this.nameOf(commodity);
    const message = exact >= 1 ? `Position limit reached for ${name}` : `Position limit approaching for ${name}`;
    const alert = this.alert('position_limit', threshold.severity, message, userId, timestamp, {
      currentPosition: netQuantity,
      limit,
      utilization,
      commodity,
      threshold: threshold.utilization,
    });
    return { alert, levelChanged: true, level };
  }

  level(userId: string, commodity: string): number {
    return this.levels.get(levelKey(userId, commodity)) ?? 0;
  }

  /** Restores a journaled level (no alert). */
  restoreLevel(userId: string, commodity: string, level: number): void {
    if (level > 0) this.levels.set(levelKey(userId, commodity), level);
    else this.levels.delete(levelKey(userId, commodity));
  }

  private nameOf(commodity: string): string {
    return this.commodities.get(commodity)?.name ?? commodity;
  }

  private alert(
    checkType: string,
    severity: Severity,
    message: string,
    userId: string,
    timestamp: string,
    details: ComplianceAlertPayload['details'],
  ): ComplianceAlertPayload {
    return complianceAlert(checkType, severity, message, userId, timestamp, details);
  }
}

/** A `compliance-alert` payload in the seed's shape. */
export function complianceAlert(
  checkType: string,
  severity: Severity,
  message: string,
  userId: string,
  timestamp: string,
  details: ComplianceAlertPayload['details'],
): ComplianceAlertPayload {
  return { type: 'COMPLIANCE_ALERT', checkType, severity, message, userId, details, timestamp };
}

function levelKey(userId: string, commodity: string): string {
  return `${userId}\u0000${commodity}`;
}

/** part / whole rounded to 4 decimals; a zero limit counts as fully used. */
function ratio(part: number, whole: number): number {
  if (whole <= 0) return part > 0 ? 1 : 0;
  return Math.round((part / whole) * 10_000) / 10_000;
}
