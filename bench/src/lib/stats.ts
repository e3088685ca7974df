/** Median of the finite numbers in `values` (NaN when there are none). */
export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Rounds to `digits` decimals; keeps NaN (shown as n/a). */
export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return Number.NaN;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Per-field medians of several runs' rows; non-numeric fields come from the first run. */
export function medianRow<T extends Record<string, unknown>>(runs: readonly T[]): T {
  const first = runs[0];
  if (!first) throw new Error('medianRow: no runs');
  const out: Record<string, unknown> = { ...first };
  for (const [key, value] of Object.entries(first)) {
    if (typeof value === 'number') out[key] = median(runs.map((r) => r[key] as number));
  }
  return out as T;
}
