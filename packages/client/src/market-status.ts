/**
 * Market status (`market-status`: open, halted or closed, with why and since when) as a client
 * keeps it: the newer of two statuses of a commodity, and whether a commodity accepts orders.
 */
import type { MarketStatusPayload } from '@qx/protocol/wire';

/**
 * Whether `incoming` replaces `held`: a higher `seq` (+1 per change of the commodity), or a later
 * `since` (a gateway whose count started again); the same status again (a snapshot after a
 * reconnect) does not.
 */
export function isNewerStatus(held: MarketStatusPayload | undefined, incoming: MarketStatusPayload): boolean {
  if (!held) return true;
  if (incoming.seq !== held.seq) return incoming.seq > held.seq || Date.parse(incoming.since) > Date.parse(held.since);
  return Date.parse(incoming.since) > Date.parse(held.since);
}

/**
 * Whether new orders of a commodity would be accepted, as far as its status says: `open`, or no
 * status known (not followed: the gateway still refuses an order in a halted market, with
 * `MARKET_HALTED`). Halted and closed markets refuse new orders and amends; cancels work.
 */
export function acceptsOrders(status: Pick<MarketStatusPayload, 'status'> | undefined): boolean {
  return status === undefined || status.status === 'open';
}
