/**
 * A market's status (open, halted, closed) in the trader's words: the short tag of Market Watch and
 * the ticket's notice, which says why and, for a halt, until when (UTC, as every time on the
 * screen). A market with no status known is open: the server refuses anyway if it is not.
 */
import type { MarketStatusPayload } from '@qx/protocol';
import { formatTime } from './format.js';

export type MarketStatusName = MarketStatusPayload['status'];

/** The status name shown in Market Watch and on the ticket's button. */
export function statusTag(status: MarketStatusName): string {
  return status === 'halted' ? 'Halted' : status === 'closed' ? 'Closed' : 'Open';
}

/** Why orders are refused now, in words, or null when the market is open (or its status unknown). */
export function statusNotice(status: Pick<MarketStatusPayload, 'status' | 'reason' | 'until'> | undefined, name: string): string | null {
  if (!status || status.status === 'open') return null;
  if (status.status === 'closed') return `${name} is closed: ${status.reason}. Orders are refused until the next session opens; cancels work.`;
  const until = status.until ? `until ${formatTime(status.until)} UTC` : 'until it is reopened';
  return `${name} is halted ${until}: ${status.reason}. Orders and amends are refused; cancels work.`;
}
