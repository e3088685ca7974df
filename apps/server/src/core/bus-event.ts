import type { BusEventName } from '@qx/protocol';
import type { PathTimes } from '../order-path.js';

/** One event on its way from the writer to the gateways: numbered in its stream and rendered once. */
export interface BusEvent {
  /** where sockets listen: `orders-user-1`, `market-crude_oil`, `authenticated` (system alerts) */
  room: string;
  /** the numbered sequence it belongs to (see @qx/protocol streams) */
  stream: string;
  seq: number;
  event: BusEventName;
  /** the JSON the socket receives (an envelope, a `market-trade`, or between nodes a book delta) */
  envelope: string;
  /**
   * The stream's state after this event, for a bus that keeps each stream's latest (a book: the
   * whole top of the book, so a node that missed a delta can start again from it)
   */
  state?: string | undefined;
  meta?: PathTimes | undefined;
}

/** The writer's side of the bus: committed events, to every gateway, in order. */
export interface EventBus {
  publish(events: readonly BusEvent[]): void;
}
