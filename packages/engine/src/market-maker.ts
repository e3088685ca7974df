import type { Commodity } from '@qx/protocol';
import type { Exchange, PlaceOutcome } from './exchange.js';
import type { OrderState } from './order.js';
import { integerBetween, type RandomSource } from './prng.js';
import type { Side } from './types.js';

export interface MarketMakerParams {
  /** price levels quoted on each side */
  levels: number;
  /** half the spread around fair value, in basis points (at least one tick) */
  halfSpreadBps: number;
  /** distance between levels, in basis points (at least one tick) */
  levelSpacingBps: number;
  /** size of the first level in contracts (deeper levels are larger), drawn from [min, max] */
  minContracts: number;
  maxContracts: number;
  /** a quote is refreshed when less than this fraction of it is left */
  refillBelow: number;
}

export const DEFAULT_MARKET_MAKER: MarketMakerParams = {
  levels: 5,
  halfSpreadBps: 2,
  levelSpacingBps: 2,
  minContracts: 5,
  maxContracts: 15,
  refillBelow: 0.3,
};

/**
 * A liquidity provider for one commodity: keeps `levels` quotes on each side around fair value,
 * cancelling and replacing the ones whose price moved or that were mostly filled.
 */
export class MarketMaker {
  readonly userId: string;
  private readonly bids: (OrderState | null)[];
  private readonly asks: (OrderState | null)[];
  private readonly target: number[];

  constructor(
    private readonly commodity: Commodity,
    private readonly params: MarketMakerParams = DEFAULT_MARKET_MAKER,
  ) {
    this.userId = `~mm-${commodity.symbol}`;
    this.bids = new Array<OrderState | null>(params.levels).fill(null);
    this.asks = new Array<OrderState | null>(params.levels).fill(null);
    this.target = new Array<number>(params.levels).fill(0);
  }

  /** Re-quotes around `fairValue`; every exchange outcome goes to `sink`. */
  requote(exchange: Exchange, fairValue: number, nowMs: number, random: RandomSource, sink: (o: PlaceOutcome) => void): void {
    const tick = this.commodity.tickSize;
    const fvTicks = fairValue / tick;
    const half = Math.max(1, Math.round((fvTicks * this.params.halfSpreadBps) / 10_000));
    const spacing = Math.max(1, Math.round((fvTicks * this.params.levelSpacingBps) / 10_000));
    const bestBid = Math.max(1, Math.floor(fvTicks - half + 1e-9));
    const bestAsk = Math.max(bestBid + 1, Math.ceil(fvTicks + half - 1e-9));
    // cancel everything stale on both sides first, so new quotes never meet old ones
    const replaceBids = this.cancelStale(this.bids, (i) => bestBid - i * spacing, exchange, nowMs, sink);
    const replaceAsks = this.cancelStale(this.asks, (i) => bestAsk + i * spacing, exchange, nowMs, sink);
    // a quote that trades may halt the market (velocity): the rest wait for the next requote
    const symbol = this.commodity.symbol;
    for (const i of replaceBids) if (exchange.marketOpen(symbol)) this.bids[i] = this.quote(exchange, 'buy', bestBid - i * spacing, i, nowMs, random, sink);
    for (const i of replaceAsks) if (exchange.marketOpen(symbol)) this.asks[i] = this.quote(exchange, 'sell', bestAsk + i * spacing, i, nowMs, random, sink);
  }

  private cancelStale(
    quotes: (OrderState | null)[],
    priceOf: (level: number) => number,
    exchange: Exchange,
    nowMs: number,
    sink: (o: PlaceOutcome) => void,
  ): number[] {
    const replace: number[] = [];
    for (let i = 0; i < quotes.length; i++) {
      const q = quotes[i] ?? null;
      const price = priceOf(i);
      const open = q !== null && (q.status === 'new' || q.status === 'partially_filled');
      if (open && q.priceTicks === price && q.remainingQuantity >= q.quantity * this.params.refillBelow) continue;
      if (open) sink(exchange.cancelOrder(this.userId, q.id, nowMs));
      quotes[i] = null;
      if (price > 0) replace.push(i);
    }
    return replace;
  }

  private quote(
    exchange: Exchange,
    side: Side,
    priceTicks: number,
    level: number,
    nowMs: number,
    random: RandomSource,
    sink: (o: PlaceOutcome) => void,
  ): OrderState | null {
    const contracts = integerBetween(random, this.params.minContracts, this.params.maxContracts) * (1 + level);
    const outcome = exchange.place(
      this.userId,
      {
        commodity: this.commodity.symbol,
        side,
        type: 'limit',
        quantity: contracts * this.commodity.contractSize,
        priceTicks,
        timeInForce: 'gtc',
        clientOrderId: null,
      },
      nowMs,
    );
    sink(outcome);
    return outcome.ok ? outcome.order : null;
  }
}
