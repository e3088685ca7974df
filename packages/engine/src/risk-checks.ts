import { wireError, type ComplianceAlertPayload, type ErrorCodeName, type WireError } from '@qx/protocol';
import type { CommodityMarket } from './commodity-market.js';
import type { ComplianceMonitor } from './compliance-monitor.js';
import type { Order } from './order.js';
import type { PositionBook } from './position-book.js';

/** Why a well-formed order is refused by a market rule (it becomes a `rejected` order). */
export interface PreTradeRefusal {
  code: ErrorCodeName;
  reason: string;
  alert?: ComplianceAlertPayload;
}

/**
 * The checks an order passes before it may trade: the price band around the mark, the pre-trade
 * compliance limits (order size, position with open orders on the same side) and, for market
 * and fill-or-kill orders, enough liquidity. Reads the books and positions; changes nothing.
 */
export class RiskChecks {
  constructor(
    private readonly compliance: ComplianceMonitor,
    private readonly positions: PositionBook,
    /** how far a limit price may be from the mark, as a fraction */
    private readonly priceBand: number,
  ) {}

  /** A new order; agents are exempt from compliance. */
  preTrade(order: Order, market: CommodityMarket, agent: boolean, timestamp: string): PreTradeRefusal | null {
    if (order.priceTicks !== null) {
      const { low, high } = this.bandOf(market);
      if (order.priceTicks < low || order.priceTicks > high) {
        const g = market.grid;
        return {
          code: 'PRICE_OUT_OF_BAND',
          reason: `Price ${g.fromTicks(order.priceTicks)} is outside the allowed band ${g.fromTicks(low)}–${g.fromTicks(high)}`,
        };
      }
    }
    if (!agent) {
      const position = this.positions.get(order.userId, order.commodity);
      const rejection = this.compliance.checkOrder(
        {
          userId: order.userId,
          commodity: order.commodity,
          side: order.side,
          quantity: order.quantity,
          netQuantity: position?.netQuantity ?? 0,
          openBuyQuantity: position?.openBuyQuantity ?? 0,
          openSellQuantity: position?.openSellQuantity ?? 0,
        },
        timestamp,
      );
      if (rejection !== null) return { code: 'COMPLIANCE_REJECTED', reason: rejection.reason, alert: rejection.alert };
    }
    if (order.type === 'market' || order.timeInForce === 'fok') {
      const needed = order.timeInForce === 'fok' ? order.quantity : 1;
      if (market.book.fillableQuantity(order, needed) < needed) {
        return {
          code: 'NO_LIQUIDITY',
          reason: order.timeInForce === 'fok' ? 'Fill-or-kill order cannot be filled in full' : 'No liquidity for a market order',
        };
      }
    }
    return null;
  }

  /** The price band and pre-trade compliance for an order's amended terms (the order unchanged). */
  amend(order: Order, market: CommodityMarket, priceTicks: number, quantity: number, timestamp: string): WireError | null {
    if (priceTicks !== order.priceTicks) {
      const band = this.bandOf(market);
      if (priceTicks < band.low || priceTicks > band.high) {
        const g = market.grid;
        return wireError('PRICE_OUT_OF_BAND', `Price ${g.fromTicks(priceTicks)} is outside the allowed band ${g.fromTicks(band.low)}–${g.fromTicks(band.high)}`, 'price');
      }
    }
    const position = this.positions.get(order.userId, order.commodity);
    const open = (order.side === 'buy' ? position?.openBuyQuantity : position?.openSellQuantity) ?? 0;
    const others = open - order.remainingQuantity;
    const rejection = this.compliance.checkOrder(
      {
        userId: order.userId,
        commodity: order.commodity,
        side: order.side,
        quantity,
        filledQuantity: order.filledQuantity,
        netQuantity: position?.netQuantity ?? 0,
        openBuyQuantity: order.side === 'buy' ? others : (position?.openBuyQuantity ?? 0),
        openSellQuantity: order.side === 'sell' ? others : (position?.openSellQuantity ?? 0),
      },
      timestamp,
    );
    return rejection === null ? null : wireError('COMPLIANCE_REJECTED', rejection.reason);
  }

  private bandOf(market: CommodityMarket): { low: number; high: number } {
    const mark = market.markTicks();
    return { low: Math.max(1, Math.ceil(mark * (1 - this.priceBand) - 1e-9)), high: Math.floor(mark * (1 + this.priceBand) + 1e-9) };
  }
}
