interface Sample {
  t: number;
  p: number;
}

/**
 * The highest and lowest value seen over a sliding time window: two monotonic queues, O(1)
 * amortized per sample. Samples arrive in time order; `high`/`low` need at least one sample.
 */
export class RollingExtremes {
  private maxQ: Sample[] = [];
  private maxHead = 0;
  private minQ: Sample[] = [];
  private minHead = 0;

  constructor(private readonly windowMs: number) {}

  /** Adds a value at `nowMs` and drops what fell out of the window ending then. */
  add(value: number, nowMs: number): void {
    const sample: Sample = { t: nowMs, p: value };
    while (this.maxQ.length > this.maxHead && (this.maxQ[this.maxQ.length - 1] as Sample).p <= value) this.maxQ.pop();
    this.maxQ.push(sample);
    while (this.minQ.length > this.minHead && (this.minQ[this.minQ.length - 1] as Sample).p >= value) this.minQ.pop();
    this.minQ.push(sample);
    const cutoff = nowMs - this.windowMs;
    while ((this.maxQ[this.maxHead] as Sample).t < cutoff) this.maxHead++;
    while ((this.minQ[this.minHead] as Sample).t < cutoff) this.minHead++;
    this.compact();
  }

  get high(): number {
    return (this.maxQ[this.maxHead] as Sample).p;
  }

  get low(): number {
    return (this.minQ[this.minHead] as Sample).p;
  }

  /** Forgets every sample (the next one starts a new window). */
  clear(): void {
    this.maxQ = [];
    this.maxHead = 0;
    this.minQ = [];
    this.minHead = 0;
  }

  private compact(): void {
    if (this.maxHead > 1024) {
      this.maxQ = this.maxQ.slice(this.maxHead);
      this.maxHead = 0;
    }
    if (this.minHead > 1024) {
      this.minQ = this.minQ.slice(this.minHead);
      this.minHead = 0;
    }
  }
}
