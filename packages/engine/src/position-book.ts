import type { Order } from './order.js';
import { Position } from './position.js';

/**
 * Every user's positions, by user then commodity, with the open (resting) quantity behind each
 * that the pre-trade exposure check counts.
 */
export class PositionBook {
  private readonly byUser = new Map<string, Map<string, Position>>();

  get(userId: string, commodity: string): Position | undefined {
    return this.byUser.get(userId)?.get(commodity);
  }

  getOrCreate(userId: string, commodity: string): Position {
    let positions = this.byUser.get(userId);
    if (positions === undefined) {
      positions = new Map();
      this.byUser.set(userId, positions);
    }
    let position = positions.get(commodity);
    if (position === undefined) {
      position = new Position(userId, commodity);
      positions.set(commodity, position);
    }
    return position;
  }

  /** An order starts resting with `quantity` open. */
  addExposure(order: Order, quantity: number): void {
    this.getOrCreate(order.userId, order.commodity).changeOpenQuantity(order.side, quantity);
  }

  /** `quantity` of a resting order no longer rests (filled, cancelled, reduced). */
  releaseExposure(order: Order, quantity: number): void {
    this.get(order.userId, order.commodity)?.changeOpenQuantity(order.side, -quantity);
  }

  ofUser(userId: string): Position[] {
    return [...(this.byUser.get(userId)?.values() ?? [])];
  }

  users(): string[] {
    return [...this.byUser.keys()];
  }
}
