/**
 * A latency histogram with HdrHistogram's bucket layout (log-linear, 3 significant digits), in
 * whole microseconds. Small and dependency-free; it travels between processes as sparse counts.
 */
const SIGNIFICANT_DIGITS = 3;
const SUB_BUCKET_COUNT_MAGNITUDE = Math.ceil(Math.log2(2 * 10 ** SIGNIFICANT_DIGITS)); // 11
const SUB_BUCKET_HALF_COUNT_MAGNITUDE = SUB_BUCKET_COUNT_MAGNITUDE - 1;
const SUB_BUCKET_COUNT = 2 ** SUB_BUCKET_COUNT_MAGNITUDE; // 2048
const SUB_BUCKET_HALF_COUNT = SUB_BUCKET_COUNT / 2;
const SUB_BUCKET_MASK = SUB_BUCKET_COUNT - 1;
/** 60 s in µs; larger values are clamped (and counted as such). */
export const HIGHEST_TRACKABLE_US = 60_000_000;

function bucketsNeeded(highest: number): number {
  let smallestUntrackable = SUB_BUCKET_COUNT;
  let buckets = 1;
  while (smallestUntrackable <= highest) {
    smallestUntrackable *= 2;
    buckets++;
  }
  return buckets;
}

const COUNTS_LENGTH = (bucketsNeeded(HIGHEST_TRACKABLE_US) + 1) * SUB_BUCKET_HALF_COUNT;

/** [countsIndex, count] pairs: what a histogram sends over IPC. */
export type SparseCounts = Array<[number, number]>;

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export class Histogram {
  private readonly counts = new Float64Array(COUNTS_LENGTH);
  private total = 0;
  private sum = 0;
  private maxValue = 0;
  clamped = 0;

  get count(): number {
    return this.total;
  }

  /** Records one value in microseconds (rounded; negative values count as 0). */
  record(valueUs: number): void {
    let v = Math.round(valueUs);
    if (!(v > 0)) v = 0;
    if (v > HIGHEST_TRACKABLE_US) {
      v = HIGHEST_TRACKABLE_US;
      this.clamped++;
    }
    this.counts[indexOf(v)]! += 1;
    this.total++;
    this.sum += v;
    if (v > this.maxValue) this.maxValue = v;
  }

  /** The value (µs) at or below which `percentile` % of recorded values fall, as HdrHistogram reports it. */
  valueAtPercentile(percentile: number): number {
    if (this.total === 0) return 0;
    const target = Math.max(1, Math.ceil((Math.min(percentile, 100) / 100) * this.total));
    let running = 0;
    for (let i = 0; i < COUNTS_LENGTH; i++) {
      running += this.counts[i]!;
      if (running >= target) return Math.min(highestEquivalentValue(i), this.maxValue);
    }
    return this.maxValue;
  }

  summary(): LatencySummary {
    const ms = (us: number): number => Math.round(us) / 1000;
    return {
      count: this.total,
      meanMs: this.total === 0 ? 0 : ms(this.sum / this.total),
      p50Ms: ms(this.valueAtPercentile(50)),
      p90Ms: ms(this.valueAtPercentile(90)),
      p99Ms: ms(this.valueAtPercentile(99)),
      p999Ms: ms(this.valueAtPercentile(99.9)),
      maxMs: ms(this.maxValue),
    };
  }

  toSparse(): SparseCounts {
    const out: SparseCounts = [];
    for (let i = 0; i < COUNTS_LENGTH; i++) {
      const c = this.counts[i]!;
      if (c > 0) out.push([i, c]);
    }
    return out;
  }

  addSparse(sparse: SparseCounts): void {
    for (const [i, c] of sparse) {
      if (i < 0 || i >= COUNTS_LENGTH || !(c > 0)) continue;
      this.counts[i]! += c;
      this.total += c;
      const value = valueFromIndex(i);
      this.sum += value * c;
      const high = highestEquivalentValue(i);
      if (high > this.maxValue) this.maxValue = Math.min(high, HIGHEST_TRACKABLE_US);
    }
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.sum = 0;
    this.maxValue = 0;
    this.clamped = 0;
  }

  /**
   * HdrHistogram's percentile distribution text (the `.hgrm` format, values in milliseconds), so
   * the usual plotters read it.
   */
  percentileDistribution(ticksPerHalfDistance = 5): string {
    const lines = [`${'Value'.padStart(12)} ${'Percentile'.padStart(14)} ${'TotalCount'.padStart(10)} ${'1/(1-Percentile)'.padStart(14)}`, ''];
    if (this.total > 0) {
      let percentile = 0;
      for (;;) {
        const value = this.valueAtPercentile(percentile);
        const below = this.countAtOrBelow(value);
        const fraction = percentile / 100;
        const inverse = fraction < 1 ? (1 / (1 - fraction)).toFixed(2) : '';
        lines.push(
          `${(value / 1000).toFixed(3).padStart(12)} ${fraction.toFixed(12).padStart(14)} ${String(below).padStart(10)} ${inverse.padStart(14)}`,
        );
        if (percentile >= 100 || below >= this.total) break;
        const halfDistances = Math.floor(Math.log2(100 / (100 - percentile))) + 1;
        percentile += 100 / (ticksPerHalfDistance * 2 ** halfDistances);
        if (percentile > 99.9999) percentile = 100;
      }
    }
    const s = this.summary();
    lines.push(`#[Mean    = ${s.meanMs.toFixed(3)}, StdDeviation   = n/a]`);
    lines.push(`#[Max     = ${s.maxMs.toFixed(3)}, Total count    = ${this.total}]`);
    lines.push(`#[Buckets = ${bucketsNeeded(HIGHEST_TRACKABLE_US)}, SubBuckets     = ${SUB_BUCKET_COUNT}]`);
    return lines.join('\n');
  }

  private countAtOrBelow(valueUs: number): number {
    let running = 0;
    const last = Math.min(indexOf(Math.min(valueUs, HIGHEST_TRACKABLE_US)), COUNTS_LENGTH - 1);
    for (let i = 0; i <= last; i++) running += this.counts[i]!;
    return running;
  }
}

function bucketIndexOf(value: number): number {
  // bit length of (value | mask) minus the sub-bucket magnitude; values < 2^31 (60 s in µs fits)
  return 32 - Math.clz32(value | SUB_BUCKET_MASK) - SUB_BUCKET_COUNT_MAGNITUDE;
}

function indexOf(value: number): number {
  const bucketIndex = bucketIndexOf(value);
  const subBucketIndex = Math.floor(value / 2 ** bucketIndex);
  return ((bucketIndex + 1) << SUB_BUCKET_HALF_COUNT_MAGNITUDE) + (subBucketIndex - SUB_BUCKET_HALF_COUNT);
}

function bucketOfIndex(index: number): { bucketIndex: number; subBucketIndex: number } {
  let bucketIndex = (index >> SUB_BUCKET_HALF_COUNT_MAGNITUDE) - 1;
  let subBucketIndex = (index & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT;
  if (bucketIndex < 0) {
    subBucketIndex -= SUB_BUCKET_HALF_COUNT;
    bucketIndex = 0;
  }
  return { bucketIndex, subBucketIndex };
}

function valueFromIndex(index: number): number {
  const { bucketIndex, subBucketIndex } = bucketOfIndex(index);
  return subBucketIndex * 2 ** bucketIndex;
}

function highestEquivalentValue(index: number): number {
  const { bucketIndex } = bucketOfIndex(index);
  return valueFromIndex(index) + 2 ** bucketIndex - 1;
}
