/** A print of the public tape as it travels and as sockets receive it (`market-trade`: no user or order ids). */
import { FeedEvent, roomOfStream, streams, type MarketTrade } from '@qx/protocol';
import type { BusEvent } from './bus-event.js';
import type { TapeEntry } from '../store/tape.js';

export function tapeEvent(entry: TapeEntry, priceOf: (commodity: string, ticks: number) => number): BusEvent {
  const stream = streams.tape(entry.commodity);
  const trade: MarketTrade = {
    commodity: entry.commodity,
    tradeId: entry.id,
    price: priceOf(entry.commodity, entry.priceTicks),
    quantity: entry.quantity,
    side: entry.aggressor,
    time: new Date(entry.executedAt).toISOString(),
    seq: entry.tapeSeq,
  };
  return { room: roomOfStream(stream), stream, seq: entry.tapeSeq, event: FeedEvent.MarketTrade, envelope: JSON.stringify(trade) };
}
