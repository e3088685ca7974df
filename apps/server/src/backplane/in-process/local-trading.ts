/** The trading core in this process, as the gateway calls it: every answer is the engine's own. */
import type { BookView, Exchange, PositionView } from '@qx/engine';
import type { CancelOnDisconnectScope, MarketStatusPayload, OrderAmendBody, OrderRequestBody } from '@qx/protocol';
import type { KillSwitchOutcome, PathTimes, TradingApi } from '../backplane.js';
import type { OrderOrigin, TradingService } from '../../core/trading-service.js';
import type { CancelAllOutcome, Outcome, SubmitOutcome } from '../../core/outcomes.js';

export class LocalTrading implements TradingApi {
  constructor(
    private readonly trading: TradingService,
    private readonly exchange: Exchange,
  ) {}

  submit(userId: string, body: OrderRequestBody, times?: PathTimes, origin?: OrderOrigin): Promise<SubmitOutcome> {
    return this.trading.submit(userId, body, queued(times), origin);
  }

  cancel(userId: string, orderId: string, times?: PathTimes): Promise<SubmitOutcome> {
    return this.trading.cancel(userId, orderId, queued(times));
  }

  amend(userId: string, orderId: string, body: OrderAmendBody, times?: PathTimes): Promise<SubmitOutcome> {
    return this.trading.amend(userId, orderId, body, queued(times));
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

  setCancelOnDisconnect(userId: string, connection: string, node: string, scope: CancelOnDisconnectScope): Promise<Outcome<{ scope: CancelOnDisconnectScope }>> {
    return this.trading.setCancelOnDisconnect(userId, connection, node, scope);
  }

  connectionLost(connection: string): Promise<void> {
    return this.trading.connectionLost(connection);
  }

  connectionRestored(connection: string, node: string): Promise<void> {
    return this.trading.connectionRestored(connection, node);
  }

  cancelAllAfter(userId: string, timeoutMs: number): Promise<Outcome<{ timeoutMs: number; firesAt: number | null }>> {
    return this.trading.cancelAllAfter(userId, timeoutMs);
  }

  setTradingEnabled(userId: string, enabled: boolean, reason: string, by: string): Promise<Outcome<KillSwitchOutcome>> {
    return this.trading.setTradingEnabled(userId, enabled, reason, by);
  }

  halt(commodity: string, reason: string, durationMs: number | null, by: string): Promise<Outcome<{ status: MarketStatusPayload }>> {
    return this.trading.halt(commodity, reason, durationMs, by);
  }

  reopen(commodity: string, by: string): Promise<Outcome<{ status: MarketStatusPayload }>> {
    return this.trading.reopen(commodity, by);
  }
}

/** In one process the request is handed to the engine as it is received. */
function queued(times: PathTimes | undefined): PathTimes | undefined {
  return times ? { ...times, queuedAt: times.receivedAt } : undefined;
}
