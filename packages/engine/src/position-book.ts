import { Position } from './position.js';

/** Every user's positions, by user then commodity. */
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

  ofUser(userId: string): Position[] {
    return [...(this.byUser.get(userId)?.values() ?? [])];
  }

  users(): string[] {
    return [...this.byUser.keys()];
  }
}
