/**
 * The trading day: it ends at the close (day orders expire) and the next one starts at the open,
 * both in minutes after midnight UTC. With the open equal to the close there is no break: the
 * next session starts the moment the last one ends. Otherwise the market is closed in between
 * (as CME Globex's daily maintenance period).
 */
const DAY = 86_400_000;

export class SessionCalendar {
  private readonly close: number;
  private readonly open: number;

  constructor(closeMinuteUtc: number, openMinuteUtc: number) {
    this.close = closeMinuteUtc * 60_000;
    this.open = openMinuteUtc * 60_000;
  }

  get hasBreak(): boolean {
    return this.close !== this.open;
  }

  /** The last close at or before `nowMs`. */
  previousClose(nowMs: number): number {
    return previous(nowMs, this.close);
  }

  /** The last session start at or before `nowMs` (the open; without a break, the close). */
  previousOpen(nowMs: number): number {
    return previous(nowMs, this.open);
  }

  /** Whether `nowMs` falls between a close and the next open. */
  inBreak(nowMs: number): boolean {
    return this.hasBreak && this.previousClose(nowMs) > this.previousOpen(nowMs);
  }

  /** The next close or open after `nowMs`, and which. */
  next(nowMs: number): { at: number; what: 'close' | 'open' } {
    const close = this.previousClose(nowMs) + DAY;
    if (!this.hasBreak) return { at: close, what: 'close' };
    const open = this.previousOpen(nowMs) + DAY;
    return open < close ? { at: open, what: 'open' } : { at: close, what: 'close' };
  }
}

function previous(nowMs: number, offset: number): number {
  const today = Math.floor(nowMs / DAY) * DAY + offset;
  return today <= nowMs ? today : today - DAY;
}
