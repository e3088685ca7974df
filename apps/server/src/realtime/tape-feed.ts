/**
 * The public tape (`subscribe-trades`): each stored print goes to `trades-<commodity>` as a
 * `market-trade` with the commodity's tape seq. No user or order ids ever leave here.
 */
import { ServerEvent, rooms, type MarketTrade } from '@qx/protocol';
import { encodeFrame, type OutboundFrame } from './frame.js';
import type { TapeEntry } from '../store/market-trades.js';

export class TapeFeed {
  constructor(
    /** `hub`: this process's sockets, or (a cluster's engine) the bus outbox towards the gateways */
    private readonly deps: { hub: { deliverToRoom(room: string, frame: OutboundFrame): unknown }; priceOf: (commodity: string, ticks: number) => number },
  ) {}

  toWire(entry: TapeEntry): MarketTrade {
    return {
      commodity: entry.commodity,
      tradeId: entry.id,
      price: this.deps.priceOf(entry.commodity, entry.priceTicks),
      quantity: entry.quantity,
      side: entry.aggressor,
      time: new Date(entry.executedAt).toISOString(),
      seq: entry.tapeSeq,
    };
  }

  publish(entries: readonly TapeEntry[]): void {
    const publishedAt = performance.now();
    for (const entry of entries) {
      const room = rooms.trades(entry.commodity);
      const frame = encodeFrame(ServerEvent.MarketTrade, JSON.stringify(this.toWire(entry)), { stream: room, seq: entry.tapeSeq, conflateKey: null, publishedAt });
      this.deps.hub.deliverToRoom(room, frame);
    }
  }
}
