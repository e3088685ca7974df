/**
 * Counts failed authentication attempts per key (a socket, an address) in a fixed window, so a
 * client guessing tokens is slowed down and then cut off. Pure apart from the injected clock.
 */
export class FailureLimiter {
  private readonly counts = new Map<string, { count: number; windowStart: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True while `key` has not used up its failures in the current window. */
  allowed(key: string): boolean {
    const entry = this.current(key);
    return !entry || entry.count < this.limit;
  }

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
