import type { Commodity, SystemAlertPayload } from '@qx/protocol';
import { RollingExtremes } from './rolling-extremes.js';
import { isoTime } from './wire.js';

export interface VolatilityOptions {
  /** rolling window, default 60 s */
  windowMs?: number;
  /** high−low move over the window (as a fraction of the low) that raises a warning; default 2% */
  warningMove?: number;
  /** move that escalates to critical; default 4% */
  criticalMove?: number;
  /** the alert clears (and may be raised again) only once the move falls below this; default 1% */
  clearMove?: number;
}

export type VolatilityLevel = 'normal' | 'warning' | 'critical';

interface WindowState {
  window: RollingExtremes;
  level: 0 | 1 | 2;
}

/**
 * Watches each commodity's price over a rolling window and raises a `market_volatility`
 * system alert when the high−low move exceeds a threshold, with hysteresis: raised above
 * `warningMove`, escalated once above `criticalMove`, cleared (silently) only below `clearMove`.
 */
export class VolatilityMonitor {
  private readonly windowMs: number;
  private readonly warningMove: number;
  private readonly criticalMove: number;
  private readonly clearMove: number;
  private readonly names = new Map<string, string>();
  private readonly states = new Map<string, WindowState>();

  constructor(commodities: readonly Commodity[], options: VolatilityOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.warningMove = options.warningMove ?? 0.02;
    this.criticalMove = options.criticalMove ?? 0.04;
    this.clearMove = options.clearMove ?? 0.01;
    for (const c of commodities) this.names.set(c.symbol, c.name);
  }

  /** Records a price (any positive unit) at `nowMs`; returns the alert to publish, if any. */
  observe(commodity: string, price: number, nowMs: number): SystemAlertPayload | null {
    if (!(price > 0)) return null;
    let s = this.states.get(commodity);
    if (s === undefined) {
      s = { window: new RollingExtremes(this.windowMs), level: 0 };
      this.states.set(commodity, s);
    }
    s.window.add(price, nowMs);
    const high = s.window.high;
    const low = s.window.low;
    const move = (high - low) / low;

    if (s.level < 2 && move >= this.criticalMove) {
      s.level = 2;
      return this.alert(commodity, 'critical', move, high, low, nowMs);
    }
    if (s.level === 0 && move >= this.warningMove) {
      s.level = 1;
      return this.alert(commodity, 'warning', move, high, low, nowMs);
    }
    if (s.level > 0 && move < this.clearMove) s.level = 0;
    return null;
  }

  level(commodity: string): VolatilityLevel {
    const level = this.states.get(commodity)?.level ?? 0;
    return level === 0 ? 'normal' : level === 1 ? 'warning' : 'critical';
  }

  private alert(
    commodity: string,
    severity: 'warning' | 'critical',
    move: number,
    high: number,
    low: number,
    nowMs: number,
  ): SystemAlertPayload {
    const name = this.names.get(commodity) ?? commodity;
    return {
      alertType: 'market_volatility',
      severity,
      message: `${severity === 'critical' ? 'Extreme' : 'High'} volatility detected in ${name} market`,
      affectedCommodities: [commodity],
      timestamp: isoTime(nowMs),
      details: {
        windowSeconds: this.windowMs / 1000,
        movePercent: Math.round(move * 10_000) / 100,
        high,
        low,
      },
    };
  }
}
