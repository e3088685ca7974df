/**
 * The order path hop by hop, as the servers time it: `qx_order_path_seconds{hop}` scraped from
 * each gateway's `/metrics` at both ends of a window, the difference summed over gateways, and per
 * hop the count, mean and p50/p99 interpolated within the histogram's buckets. A server without
 * the histogram (a baseline) yields no hops.
 */
import { round } from '../lib/stats.js';

const METRIC = 'qx_order_path_seconds';
/** the hops in path order (total last), as the server names them */
export const HOPS = ['queued', 'started', 'committed', 'published', 'delivered', 'written', 'total'] as const;

interface HopCounts {
  /** cumulative counts per upper bound (seconds), +Inf last */
  buckets: Map<number, number>;
  sum: number;
  count: number;
}

export type HopSnapshot = Map<string, HopCounts>;

export interface HopStats {
  hop: string;
  count: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
}

const LINE = new RegExp(`^${METRIC}_(bucket|sum|count)\\{([^}]*)\\} (\\S+)`);

/** Parses the histogram out of a Prometheus text exposition. */
export function parseHops(text: string): HopSnapshot {
  const out: HopSnapshot = new Map();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    const hop = labels['hop'];
    if (!hop) continue;
    let h = out.get(hop);
    if (!h) {
      h = { buckets: new Map(), sum: 0, count: 0 };
      out.set(hop, h);
    }
    const value = Number(m[3]);
    if (m[1] === 'bucket') h.buckets.set(labels['le'] === '+Inf' ? Number.POSITIVE_INFINITY : Number(labels['le']), value);
    else if (m[1] === 'sum') h.sum = value;
    else h.count = value;
  }
  return out;
}

/** Scrapes every gateway and adds their histograms up (a gateway that does not answer adds nothing). */
export async function scrapeHops(baseUrls: readonly string[]): Promise<HopSnapshot> {
  const total: HopSnapshot = new Map();
  for (const url of baseUrls) {
    let text: string;
    try {
      const res = await fetch(new URL('/metrics', url), { signal: AbortSignal.timeout(5000) });
      if (!res.ok) continue;
      text = await res.text();
    } catch {
      continue;
    }
    for (const [hop, h] of parseHops(text)) {
      const into = total.get(hop) ?? { buckets: new Map(), sum: 0, count: 0 };
      for (const [le, n] of h.buckets) into.buckets.set(le, (into.buckets.get(le) ?? 0) + n);
      into.sum += h.sum;
      into.count += h.count;
      total.set(hop, into);
    }
  }
  return total;
}

/** The value below which `q` of the observations fall, interpolated linearly within its bucket (ms). */
function quantileMs(buckets: ReadonlyArray<[number, number]>, count: number, q: number): number {
  if (count <= 0) return Number.NaN;
  const rank = q * count;
  let lower = 0;
  let below = 0;
  for (const [le, cumulative] of buckets) {
    if (cumulative >= rank) {
      // the last bucket is open-ended: its lower bound is all that can be said
      if (!Number.isFinite(le)) return lower * 1000;
      const inBucket = cumulative - below;
      const f = inBucket > 0 ? (rank - below) / inBucket : 1;
      return (lower + (le - lower) * f) * 1000;
    }
    lower = le;
    below = cumulative;
  }
  return lower * 1000;
}

/** Per hop, what happened between two scrapes. */
export function hopsBetween(a: HopSnapshot, b: HopSnapshot): HopStats[] {
  return HOPS.flatMap((hop) => {
    const end = b.get(hop);
    if (!end) return [];
    const start = a.get(hop);
    const count = end.count - (start?.count ?? 0);
    const buckets = [...end.buckets]
      .sort(([x], [y]) => x - y)
      .map(([le, n]): [number, number] => [le, n - (start?.buckets.get(le) ?? 0)]);
    return [
      {
        hop,
        count,
        meanMs: count > 0 ? round(((end.sum - (start?.sum ?? 0)) / count) * 1000, 3) : Number.NaN,
        p50Ms: round(quantileMs(buckets, count, 0.5), 3),
        p99Ms: round(quantileMs(buckets, count, 0.99), 3),
      },
    ];
  });
}

/** Per hop, the median over runs of each figure (hops missing from a run are left out of its median). */
export function medianHops(runs: readonly (readonly HopStats[])[]): HopStats[] {
  return HOPS.flatMap((hop) => {
    const of = runs.flatMap((r) => r.filter((h) => h.hop === hop));
    if (of.length === 0) return [];
    const m = (f: (h: HopStats) => number): number => {
      const v = of.map(f).filter(Number.isFinite).sort((x, y) => x - y);
      if (v.length === 0) return Number.NaN;
      const mid = v.length >> 1;
      return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
    };
    return [{ hop, count: m((h) => h.count), meanMs: round(m((h) => h.meanMs), 3), p50Ms: round(m((h) => h.p50Ms), 3), p99Ms: round(m((h) => h.p99Ms), 3) }];
  });
}

/** A table of hops for several labelled rows: one column per hop, `mean / p99` ms in each. */
export function hopTable(title: string, rows: ReadonlyArray<{ label: string; hops: readonly HopStats[] }>): { title: string; columns: string[]; rows: Array<Array<string | number>> } {
  return {
    title,
    columns: ['target', 'orders timed', ...HOPS.map((h) => `${h} mean / p99 ms`)],
    rows: rows.map((r) => [
      r.label,
      r.hops.find((h) => h.hop === 'total')?.count ?? 0,
      ...HOPS.map((hop) => {
        const h = r.hops.find((x) => x.hop === hop);
        return h && h.count > 0 ? `${h.meanMs} / ${h.p99Ms}` : 'n/a';
      }),
    ]),
  };
}
