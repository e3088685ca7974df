/** Latest quote per commodity, with the direction of the last price move (for flashing). */
import type { MarketUpdatePayload } from './types.js';

export type Direction = 'up' | 'down' | 'flat';

export interface Quote {
  commodity: string;
  price: number;
  change: number;
  changePercent: number;
  volume: number;
  bid: number | null;
  ask: number | null;
  timestamp: string | null;
  /** direction of the last price change */
  direction: Direction;
  /** counts price changes: a new value restarts the flash */
  moves: number;
}

export type MarketState = Readonly<Record<string, Quote>>;

export const EMPTY_MARKET: MarketState = {};

export function applyMarketUpdate(state: MarketState, update: MarketUpdatePayload): MarketState {
  const previous = state[update.commodity];
  let direction: Direction = previous?.direction ?? 'flat';
  let moves = previous?.moves ?? 0;
  if (previous && update.price !== previous.price) {
    direction = update.price > previous.price ? 'up' : 'down';
    moves += 1;
  }
  const quote: Quote = {
    commodity: update.commodity,
    price: update.price,
    change: update.change,
    changePercent: update.changePercent,
    volume: update.volume,
    bid: update.bid ?? null,
    ask: update.ask ?? null,
    timestamp: update.timestamp ?? null,
    direction,
    moves,
  };
  return { ...state, [update.commodity]: quote };
}

/** Applies a batch (one animation frame's worth) in arrival order. */
export function applyMarketUpdates(state: MarketState, updates: readonly MarketUpdatePayload[]): MarketState {
  return updates.reduce(applyMarketUpdate, state);
}
