/**
 * Order management with this client's token. One place (`OrderEntry`) decides how an order call
 * travels; today every call goes over REST.
 */
import type { OrderUpdatePayload } from '@qx/protocol';
import type { Session } from './session.js';
import type { OrderAmendment, TradingRest } from './trading-rest.js';

export class OrderEntry {
  constructor(
    private readonly session: Session,
    private readonly rest: TradingRest,
  ) {}

  async amendOrder(orderId: string, change: OrderAmendment): Promise<OrderUpdatePayload> {
    return this.rest.amendOrder(orderId, change, await this.session.currentToken());
  }

  async cancelAll(commodity: string | undefined): Promise<OrderUpdatePayload[]> {
    return this.rest.cancelAll(commodity, await this.session.currentToken());
  }

  async flatten(commodity: string): Promise<OrderUpdatePayload> {
    return this.rest.flatten(commodity, await this.session.currentToken());
  }
}
