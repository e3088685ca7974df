/**
 * What the ticket says after the gateway answered an order: not just its status, but what
 * happened, in lots and units — how much filled at what average, what rests, what was cancelled and why. A market
 * buy of 1,000,000 bbl that filled 144,000 says so; an IOC that filled nothing says so.
 */
import { formatLotsWithUnits, formatPrice, formatQuantity } from './format.js';
import { explainReason } from './messages.js';
import type { Commodity, Order } from './types.js';

/** A market, IOC or FOK order refused because the book could not fill it (the engine rejects an unfillable FOK). */
const unfillable = (order: Order) => order.status === 'rejected' && order.filledQuantity === 0 && /^(Fill-or-kill order cannot be filled|No liquidity for a market order)/.test(order.reason ?? '');

/**
 * The status as the blotter shows it. An unfilled FOK (rejected by the engine for want of
 * liquidity) reads like an unfilled IOC — cancelled, nothing filled — and says why.
 */
export function displayStatus(order: Order, commodity?: Pick<Commodity, 'contractSize'> & Partial<Pick<Commodity, 'tickSize' | 'name'>>): { status: Order['status']; label: string; note: string | undefined } {
  const reason = order.reason ? explainReason(order.reason, commodity) : undefined;
  if (unfillable(order)) return { status: 'cancelled', label: 'cancelled', note: reason };
  const immediate = order.type === 'market' || order.timeInForce === 'ioc' || order.timeInForce === 'fok';
  if (order.status === 'cancelled' && immediate && order.filledQuantity === 0) return { status: 'cancelled', label: 'cancelled', note: `nothing filled${reason ? `: ${reason}` : ''}` };
  return { status: order.status, label: order.status.replace('_', ' '), note: reason };
}

export interface OrderOutcome {
  /** `ok` for an order working or done as asked, `warn` when part or all of it did not trade */
  tone: 'ok' | 'warn';
  text: string;
}

export function describeOutcome(order: Order, commodity: Pick<Commodity, 'unit' | 'tickSize'> & Partial<Pick<Commodity, 'contractSize'>> | undefined): OrderOutcome {
  const unit = commodity?.unit ? ` ${commodity.unit}` : '';
  const tick = commodity?.tickSize ?? 0.0001;
  const filled = order.filledQuantity;
  const total = order.quantity ?? filled + order.remainingQuantity;
  // in lots with the units beside them when the contract size is known: `144 lots (144,000 bbl)`
  const size = commodity?.contractSize;
  const qty = (n: number) => (commodity && size ? formatLotsWithUnits(n, { contractSize: size, unit: commodity.unit }) : `${formatQuantity(n)}${unit}`);
  const avg = order.averagePrice ? ` at avg ${formatPrice(order.averagePrice, tick / 100).replace(/0+$/, '').replace(/\.$/, '')}` : '';
  const verb = order.side === 'sell' ? 'sold' : 'bought';
  const tif = order.timeInForce ? order.timeInForce.toUpperCase() : '';
  const price = order.type === 'limit' && order.price ? ` @ ${formatPrice(order.price, tick)}` : '';
  switch (order.status) {
    case 'new':
      return { tone: 'ok', text: `${order.id} working: ${order.side ?? ''} ${qty(total)}${price} ${tif}`.replace(/\s+/g, ' ').trim() };
    case 'partially_filled':
      return { tone: 'ok', text: `${order.id} partially filled: ${verb} ${qty(filled)} of ${qty(total)}${avg}; ${qty(order.remainingQuantity)} working${price}` };
    case 'filled':
      return { tone: 'ok', text: `${order.id} filled: ${verb} ${qty(filled)}${avg}` };
    case 'cancelled':
    case 'expired': {
      const why = order.reason ? ` (${explainReason(order.reason, size ? { contractSize: size, tickSize: tick } : undefined)})` : '';
      if (filled === 0) {
        const what = tif === 'IOC' || tif === 'FOK' || order.type === 'market' ? `${tif || 'order'} filled nothing` : 'nothing filled';
        return { tone: 'warn', text: `${order.id} ${what}: ${order.status}${why}` };
      }
      return { tone: 'warn', text: `${order.id} partially filled: ${verb} ${qty(filled)} of ${qty(total)}${avg}; ${qty(total - filled)} ${order.status}${why}` };
    }
    case 'rejected': {
      const why = order.reason ? explainReason(order.reason, size ? { contractSize: size, tickSize: tick } : undefined) : '';
      if (unfillable(order)) return { tone: 'warn', text: `${order.id} ${tif || 'order'} filled nothing: cancelled (${why})` };
      return { tone: 'warn', text: `${order.id} rejected${why ? `: ${why}` : ''}` };
    }
  }
}
