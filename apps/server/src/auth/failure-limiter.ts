/**
 * Counts failed authentication attempts per key (an address) in a fixed window; past `limit` the
 * caller slows the failing attempts down. Pure apart from the injected clock.
 */
export class FailureLimiter {
  private readonly counts = new Map<string, { count: number; windowStart: number }>();

  constructor(
    readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True while `key` has not used up its failures in the current window. */
  allowed(key: string): boolean {
    const entry = this.current(key);
    return !entry || entry.count < this.limit;
  }

  /** Counts one failure; returns the failures of `key` in the current window, this one included. */
  fail(key: string): number {
    const entry = this.current(key) ?? { count: 0, windowStart: this.now() };
    entry.count++;
    this.counts.set(key, entry);
    return entry.count;
  }

  /** Drops expired windows; called periodically so the map does not grow without bound. */
  sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.counts) if (now - entry.windowStart >= this.windowMs) this.counts.delete(key);
  }

  private current(key: string): { count: number; windowStart: number } | undefined {
    const entry = this.counts.get(key);
    if (entry && this.now() - entry.windowStart >= this.windowMs) {
      this.counts.delete(key);
      return undefined;
    }
    return entry;
  }
}
