/**
 * Public market data as the client holds it: the latest `market-update` per commodity (duplicates
 * dropped by seq; gaps do not matter, the latest price wins), each streamed book kept from its
 * snapshot and checked deltas (a gap or a checksum mismatch asks for a fresh snapshot), the
 * public tape once per trade, and the latest market status (open, halted, closed) per commodity.
 */
import {
  ClientEvent,
  DataEvent,
  ServerEvent,
  rooms,
  type BookSnapshot,
  type BookUpdate,
  type Envelope,
  type MarketStatusPayload,
  type MarketTrade,
  type MarketUpdatePayload,
} from '@qx/protocol/wire';
import type { ClientContext } from './context.js';
import { isNewerStatus } from './market-status.js';
import { LocalBook, type BookView } from './order-book.js';
import type { Requests } from './requests.js';
import type { Subscriptions } from './subscriptions.js';

export class MarketData {
  readonly latest = new Map<string, MarketUpdatePayload>();
  /** the latest `market-status` per commodity followed with `subscribe-status` */
  readonly statuses = new Map<string, MarketStatusPayload>();
  private readonly seqs = new Map<string, number>();
  private readonly books = new Map<string, LocalBook>();
  /** commodities awaiting a fresh snapshot */
  private readonly resyncing = new Set<string>();
  private readonly tradeSeqs = new Map<string, number>();

  constructor(
    private readonly ctx: ClientContext,
    private readonly requests: Requests,
    private readonly follows: () => Subscriptions,
  ) {}

  install(): void {
    const s = this.ctx.socket;
    s.on(ServerEvent.MarketUpdate, (envelope) => this.onMarketUpdate(envelope));
    s.on(ServerEvent.BookSnapshot, (snapshot) => this.onBookSnapshot(snapshot));
    s.on(ServerEvent.BookUpdate, (update) => this.onBookUpdate(update));
    s.on(ServerEvent.MarketTrade, (trade) => this.onMarketTrade(trade));
    s.on(ServerEvent.MarketStatus, (status) => this.onMarketStatus(status));
  }

  /** The last seq per market stream (`market-<commodity>`). */
  positions(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [commodity, seq] of this.seqs) out[rooms.market(commodity)] = seq;
    return out;
  }

  book(commodity: string): BookView | null {
    return this.books.get(commodity)?.view() ?? null;
  }

  forgetMarket(commodity: string): void {
    this.seqs.delete(commodity);
    this.latest.delete(commodity);
  }

  forgetBook(commodity: string): void {
    this.books.delete(commodity);
    this.resyncing.delete(commodity);
  }

  forgetTape(commodity: string): void {
    this.tradeSeqs.delete(commodity);
  }

  forgetStatus(commodity: string): void {
    this.statuses.delete(commodity);
  }

  private onMarketUpdate(envelope: Envelope<'market-update'>): void {
    const commodity = envelope.payload.commodity;
    if (this.follows().isDropped(rooms.market(commodity))) return;
    if (typeof envelope.seq === 'number') {
      const last = this.seqs.get(commodity);
      if (last !== undefined && envelope.seq <= last) {
        this.ctx.stats.duplicatesDropped++;
        return;
      }
      this.seqs.set(commodity, envelope.seq);
    }
    this.latest.set(commodity, envelope.payload);
    this.ctx.emit(DataEvent.MarketUpdate, envelope);
  }

  private onBookSnapshot(snapshot: BookSnapshot): void {
    if (!this.follows().books.has(snapshot.commodity)) return;
    const book = new LocalBook(snapshot);
    this.books.set(snapshot.commodity, book);
    this.resyncing.delete(snapshot.commodity);
    this.ctx.emit('book', book.view());
  }

  private onBookUpdate(update: BookUpdate): void {
    const book = this.books.get(update.commodity);
    if (!book || this.resyncing.has(update.commodity)) return; // a fresh snapshot is on its way
    const result = book.apply(update);
    if (result === 'stale') return;
    if (result === 'applied') {
      this.ctx.emit('book', book.view());
      return;
    }
    // the copy cannot be trusted any more: ask for a fresh snapshot (the gateway re-sends one)
    this.ctx.stats.bookResyncs++;
    this.resyncing.add(update.commodity);
    this.ctx.emit('book-resync', { commodity: update.commodity, reason: result });
    const depth = this.follows().books.get(update.commodity) ?? book.depth;
    this.requests.request(ClientEvent.SubscribeBook, { commodity: update.commodity, depth }).catch((err: unknown) => {
      this.resyncing.delete(update.commodity);
      this.ctx.report(err);
    });
  }

  private onMarketTrade(trade: MarketTrade): void {
    if (!this.follows().tapes.has(trade.commodity)) return;
    const last = this.tradeSeqs.get(trade.commodity);
    if (last !== undefined && trade.seq <= last) {
      this.ctx.stats.duplicatesDropped++;
      return;
    }
    this.tradeSeqs.set(trade.commodity, trade.seq);
    this.ctx.emit('market-trade', trade);
  }

  private onMarketStatus(status: MarketStatusPayload): void {
    if (!this.follows().statuses.has(status.commodity)) return;
    if (!isNewerStatus(this.statuses.get(status.commodity), status)) {
      this.ctx.stats.duplicatesDropped++;
      return;
    }
    this.statuses.set(status.commodity, status);
    this.ctx.emit('market-status', status);
  }
}
