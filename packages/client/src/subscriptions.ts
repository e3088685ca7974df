/**
 * What the client follows — market data, private streams (trades, orders, compliance), streamed
 * books, tapes and market status — remembered so that a new session subscribes to all of it again. Streams and
 * commodities given up by the user are marked dropped: late events for them are ignored.
 */
import { ClientEvent, rooms, type BookConfirmation, type BookUnsubscribed, type MarketConfirmation, type PrivateChannel, type RoomConfirmation, type UserRoomConfirmation } from '@qx/protocol/wire';
import type { ClientContext } from './context.js';
import { QuantEnergxError } from './errors.js';
import type { MarketData } from './market-data.js';
import type { PrivateStreams } from './private-streams.js';
import type { RequestEvent, RequestOptions, Requests } from './requests.js';

/** The private room each subscription method joins, by channel. */
const PRIVATE_REQUESTS: Record<PrivateChannel, { subscribe: RequestEvent; unsubscribe: RequestEvent }> = {
  trading: { subscribe: ClientEvent.JoinTrading, unsubscribe: ClientEvent.LeaveTrading },
  orders: { subscribe: ClientEvent.SubscribeOrders, unsubscribe: ClientEvent.UnsubscribeOrders },
  compliance: { subscribe: ClientEvent.SubscribeCompliance, unsubscribe: ClientEvent.UnsubscribeCompliance },
};

/** The gateway's MAX_COMMODITIES_PER_REQUEST default. */
const MARKET_CHUNK = 32;

export type SubscriptionList = { market: string[] } & Record<PrivateChannel, string[]>;

export class Subscriptions {
  private readonly wanted: { market: Set<string> } & Record<PrivateChannel, Set<string>> = {
    market: new Set(),
    trading: new Set(),
    orders: new Set(),
    compliance: new Set(),
  };
  /** streamed books wanted: commodity → depth */
  readonly books = new Map<string, number>();
  readonly tapes = new Set<string>();
  /** commodities whose market status is followed */
  readonly statuses = new Set<string>();
  /** streams and commodities given up by the user */
  private readonly dropped = new Set<string>();

  constructor(
    private readonly ctx: ClientContext,
    private readonly requests: Requests,
    private readonly market: MarketData,
    private readonly streams: PrivateStreams,
  ) {}

  isDropped(stream: string): boolean {
    return this.dropped.has(stream);
  }

  list(): SubscriptionList {
    return {
      market: [...this.wanted.market],
      trading: [...this.wanted.trading],
      orders: [...this.wanted.orders],
      compliance: [...this.wanted.compliance],
    };
  }

  async subscribeMarket(list: string[], options?: RequestOptions): Promise<MarketConfirmation> {
    const body = await this.requests.request(ClientEvent.SubscribeMarket, list, options);
    for (const c of body.commodities) {
      this.wanted.market.add(c);
      this.dropped.delete(rooms.market(c));
    }
    return body;
  }

  async unsubscribeMarket(list: string[], options?: RequestOptions): Promise<MarketConfirmation> {
    for (const c of list) this.wanted.market.delete(c);
    const body = await this.requests.request(ClientEvent.UnsubscribeMarket, list, options);
    for (const c of body.commodities) {
      this.dropped.add(rooms.market(c));
      this.market.forgetMarket(c);
    }
    return body;
  }

  async subscribePrivate(channel: PrivateChannel, userId: string, options?: RequestOptions): Promise<RoomConfirmation | UserRoomConfirmation> {
    const body = await this.requests.request(PRIVATE_REQUESTS[channel].subscribe, userId, options);
    const stream = rooms[channel](userId);
    const fresh = !this.wanted[channel].has(userId);
    this.wanted[channel].add(userId);
    this.dropped.delete(stream);
    if (fresh) void this.streams.readPosition(stream);
    return body as RoomConfirmation | UserRoomConfirmation;
  }

  async unsubscribePrivate(channel: PrivateChannel, userId: string, options?: RequestOptions): Promise<RoomConfirmation | UserRoomConfirmation> {
    this.wanted[channel].delete(userId);
    const body = await this.requests.request(PRIVATE_REQUESTS[channel].unsubscribe, userId, options);
    const stream = rooms[channel](userId);
    this.dropped.add(stream);
    this.streams.forget(stream);
    return body as RoomConfirmation | UserRoomConfirmation;
  }

  async subscribeBook(commodity: string, depth: number, options?: RequestOptions): Promise<BookConfirmation> {
    // wanted before the answer: the snapshot follows the confirmation at once
    this.books.set(commodity, depth);
    try {
      return await this.requests.request(ClientEvent.SubscribeBook, { commodity, depth }, options);
    } catch (err) {
      this.books.delete(commodity);
      throw err;
    }
  }

  async unsubscribeBook(commodity: string, options?: RequestOptions): Promise<BookUnsubscribed> {
    this.books.delete(commodity);
    const body = await this.requests.request(ClientEvent.UnsubscribeBook, { commodity }, options);
    this.market.forgetBook(commodity);
    return body;
  }

  async subscribeTrades(list: string[], options?: RequestOptions): Promise<MarketConfirmation> {
    for (const c of list) this.tapes.add(c);
    try {
      return await this.requests.request(ClientEvent.SubscribeTrades, list, options);
    } catch (err) {
      for (const c of list) this.tapes.delete(c);
      throw err;
    }
  }

  async unsubscribeTrades(list: string[], options?: RequestOptions): Promise<MarketConfirmation> {
    for (const c of list) this.tapes.delete(c);
    const body = await this.requests.request(ClientEvent.UnsubscribeTrades, list, options);
    for (const c of body.commodities) this.market.forgetTape(c);
    return body;
  }

  async subscribeStatus(list: string[], options?: RequestOptions): Promise<MarketConfirmation> {
    // wanted before the answer: the snapshot follows the confirmation at once
    const fresh = list.filter((c) => !this.statuses.has(c));
    for (const c of list) this.statuses.add(c);
    try {
      return await this.requests.request(ClientEvent.SubscribeStatus, list, options);
    } catch (err) {
      for (const c of fresh) this.statuses.delete(c);
      throw err;
    }
  }

  async unsubscribeStatus(list: string[], options?: RequestOptions): Promise<MarketConfirmation> {
    for (const c of list) this.statuses.delete(c);
    const body = await this.requests.request(ClientEvent.UnsubscribeStatus, list, options);
    for (const c of body.commodities) this.market.forgetStatus(c);
    return body;
  }

  /** A new session: subscribe to everything again (what the gateway now refuses is dropped). */
  async restore(current: () => boolean): Promise<void> {
    const markets = [...this.wanted.market];
    for (let i = 0; i < markets.length && current(); i += MARKET_CHUNK) {
      const chunk = markets.slice(i, i + MARKET_CHUNK);
      try {
        await this.requests.call(ClientEvent.SubscribeMarket, chunk);
      } catch (err) {
        if (!current()) return;
        // one bad symbol fails the whole request: subscribe one by one and drop what is refused
        for (const c of chunk) {
          await this.requests.call(ClientEvent.SubscribeMarket, [c]).catch((e: unknown) => this.dropRefused(e, () => this.wanted.market.delete(c)));
        }
        this.ctx.report(err);
      }
    }
    for (const channel of ['trading', 'orders', 'compliance'] as const) {
      for (const userId of [...this.wanted[channel]]) {
        if (!current()) return;
        await this.requests.call(PRIVATE_REQUESTS[channel].subscribe, userId).catch((e: unknown) =>
          this.dropRefused(e, () => {
            this.wanted[channel].delete(userId);
            this.streams.forget(rooms[channel](userId));
          }),
        );
      }
    }
    for (const [commodity, depth] of [...this.books]) {
      if (!current()) return;
      this.market.forgetBook(commodity);
      await this.requests.call(ClientEvent.SubscribeBook, { commodity, depth }).catch((e: unknown) => this.dropRefused(e, () => this.books.delete(commodity)));
    }
    const tapes = [...this.tapes];
    if (tapes.length && current()) {
      for (const c of tapes) this.market.forgetTape(c);
      await this.requests.call(ClientEvent.SubscribeTrades, tapes).catch((e: unknown) => this.ctx.report(e));
    }
    const statuses = [...this.statuses];
    for (let i = 0; i < statuses.length && current(); i += MARKET_CHUNK) {
      // the snapshot that follows is kept only when it is newer than the status held
      await this.requests.call(ClientEvent.SubscribeStatus, statuses.slice(i, i + MARKET_CHUNK)).catch((e: unknown) => this.ctx.report(e));
    }
  }

  private dropRefused(err: unknown, drop: () => void): void {
    if (err instanceof QuantEnergxError && err.code !== 'REQUEST_TIMEOUT' && err.code !== 'RATE_LIMITED' && err.code !== 'TOKEN_EXPIRED') drop();
    this.ctx.report(err);
  }
}
