import type { Commodity } from '@qx/protocol';
import { OrderBook } from './order-book.js';
import { PriceGrid } from './price-grid.js';

/** Everything the exchange keeps per commodity: its grid, its book and its session statistics. */
export class CommodityMarket {
  readonly grid: PriceGrid;
  readonly book: OrderBook;
  /** the session's reference (opening) price: change and changePercent are measured from it */
  referenceTicks: number;
  /** last trade price this session; null until the session's first trade */
  lastTicks: number | null = null;
  /** units traded this session */
  volume = 0;
  sessionStartedAt = 0;

  constructor(readonly commodity: Commodity) {
    this.grid = PriceGrid.of(commodity);
    this.book = new OrderBook(commodity.symbol);
    this.referenceTicks = Math.round(commodity.referencePrice / commodity.tickSize);
  }

  get symbol(): string {
    return this.commodity.symbol;
  }

  /** The price the band is anchored on and market data shows: last trade, else the reference. */
  markTicks(): number {
    return this.lastTicks ?? this.referenceTicks;
  }

  recordTrade(priceTicks: number, quantity: number): void {
    this.lastTicks = priceTicks;
    this.volume += quantity;
  }

  /**
   * Resumes this session's last price and volume from market data published at `atMs` (a
   * restart). Ignored (false) when it is from before the session started, is not a price, or
   * says less than the journaled trades already do.
   */
  resume(lastTicks: number | null, volume: number, atMs: number): boolean {
    if (!Number.isFinite(atMs) || atMs < this.sessionStartedAt || lastTicks === null || lastTicks <= 0) return false;
    if (!Number.isSafeInteger(volume) || volume < this.volume) return false;
    this.lastTicks = lastTicks;
    this.volume = volume;
    return true;
  }

  startSession(nowMs: number): void {
    this.referenceTicks = this.markTicks();
    this.lastTicks = null;
    this.volume = 0;
    this.sessionStartedAt = nowMs;
  }
}
