/**
 * What the REST API asks of the trading core, wherever it runs: in this process (`LocalTrading`),
 * or on the cluster's engine leader, reached over the bus (`RemoteTrading`). Every answer is the
 * engine's own; a remote engine that does not answer in time is `ENGINE_UNAVAILABLE`, and the
 * command it was sent expires with that answer, so it never executes later.
 */
import type { BookView, Exchange, PositionView } from '@qx/engine';
import type { OrderAmendBody, OrderRequestBody } from '@qx/protocol';
import type { CancelAllOutcome, SubmitOutcome, TradingService } from './trading-service.js';

export interface TradingApi {
  submit(userId: string, body: OrderRequestBody): Promise<SubmitOutcome>;
  cancel(userId: string, orderId: string): Promise<SubmitOutcome>;
  /** cancel/replace of a resting order (a new price, a new total quantity, or both) */
  amend(userId: string, orderId: string, body: OrderAmendBody): Promise<SubmitOutcome>;
  /** cancels the user's open orders (of one commodity, when given) */
  cancelAll(userId: string, commodity?: string): Promise<CancelAllOutcome>;
  /** a market order closing the user's net position in the commodity (idempotent by `clientOrderId`) */
  flatten(userId: string, commodity: string, clientOrderId?: string): Promise<SubmitOutcome>;
  positions(userId: string): Promise<PositionView[] | Unavailable>;
  book(commodity: string, depth: number): Promise<BookView | null | Unavailable>;
}

/** The engine could not be reached (cluster mode). */
export interface Unavailable {
  unavailable: true;
}

export function isUnavailable(v: unknown): v is Unavailable {
  return typeof v === 'object' && v !== null && (v as Partial<Unavailable>).unavailable === true;
}

export class LocalTrading implements TradingApi {
  constructor(
    private readonly trading: TradingService,
    private readonly exchange: Exchange,
  ) {}

  submit(userId: string, body: OrderRequestBody): Promise<SubmitOutcome> {
    return this.trading.submit(userId, body);
  }

  cancel(userId: string, orderId: string): Promise<SubmitOutcome> {
    return this.trading.cancel(userId, orderId);
  }

  amend(userId: string, orderId: string, body: OrderAmendBody): Promise<SubmitOutcome> {
    return this.trading.amend(userId, orderId, body);
  }

  cancelAll(userId: string, commodity?: string): Promise<CancelAllOutcome> {
    return this.trading.cancelAll(userId, commodity);
  }

  flatten(userId: string, commodity: string, clientOrderId?: string): Promise<SubmitOutcome> {
    return this.trading.flatten(userId, commodity, clientOrderId);
  }

  positions(userId: string): Promise<PositionView[]> {
    return Promise.resolve(this.exchange.positions(userId));
  }

  book(commodity: string, depth: number): Promise<BookView | null> {
    return Promise.resolve(this.exchange.book(commodity, depth));
  }
}
