import type { Commodity } from '@qx/protocol';
import type { Exchange, PlaceOutcome } from './exchange.js';
import { integerBetween, poisson, type RandomSource } from './prng.js';

export interface NoiseParams {
  /** how many noise-trader identities (`~noise-1` …) share the flow */
  traders: number;
  /** arrivals per second per commodity (Poisson) */
  ratePerSecond: number;
  /** order size in contracts, drawn from [1, maxContracts] */
  maxContracts: number;
  /** share of arrivals sent as market orders; the rest are ioc limits a little through the touch */
  marketShare: number;
}

export const DEFAULT_NOISE: NoiseParams = { traders: 4, ratePerSecond: 3, maxContracts: 5, marketShare: 0.6 };

/** Liquidity takers: small market and ioc orders at random (Poisson) times, either side. */
export class NoiseTrader {
  constructor(
    private readonly commodity: Commodity,
    private readonly params: NoiseParams = DEFAULT_NOISE,
  ) {}

  trade(exchange: Exchange, dtSeconds: number, nowMs: number, random: RandomSource, sink: (o: PlaceOutcome) => void): void {
    const arrivals = poisson(random, this.params.ratePerSecond * dtSeconds);
    const market = exchange.market(this.commodity.symbol);
    if (market === undefined) return;
    for (let n = 0; n < arrivals; n++) {
      // a trade may have halted the market (velocity): stop sending
      if (!exchange.marketOpen(this.commodity.symbol)) break;
      const userId = `~noise-${integerBetween(random, 1, this.params.traders)}`;
      const side = random() < 0.5 ? 'buy' : 'sell';
      const quantity = integerBetween(random, 1, this.params.maxContracts) * this.commodity.contractSize;
      const asMarket = random() < this.params.marketShare;
      let priceTicks: number | null = null;
      if (!asMarket) {
        const touch = side === 'buy' ? market.book.bestAsk() : market.book.bestBid();
        if (touch === null) continue;
        const through = integerBetween(random, 0, 2);
        priceTicks = side === 'buy' ? touch + through : Math.max(1, touch - through);
      }
      sink(
        exchange.place(
          userId,
          { commodity: this.commodity.symbol, side, type: asMarket ? 'market' : 'limit', quantity, priceTicks, timeInForce: 'ioc', clientOrderId: null },
          nowMs,
        ),
      );
    }
  }
}
