/** My trades (fills), newest first, by id: a fill replayed after a reconnect is kept once. */
import type { Trade } from './types.js';

export type TradesState = readonly Trade[];

export const EMPTY_TRADES: TradesState = [];
export const MAX_TRADES = 500;

export function upsertTrades(state: TradesState, incoming: readonly Trade[]): TradesState {
  if (incoming.length === 0) return state;
  const byId = new Map(state.map((t) => [t.id, t]));
  for (const trade of incoming) byId.set(trade.id, trade);
  return [...byId.values()]
    .sort((a, b) => Date.parse(b.executionTime) - Date.parse(a.executionTime) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .slice(0, MAX_TRADES);
}
