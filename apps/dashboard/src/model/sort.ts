/**
 * Sorting a blotter by a column: a click sorts by that column, a second click reverses it, a third
 * goes back to the table's own order (working orders first, newest first).
 */
export type Direction = 'asc' | 'desc';
export interface SortState<K extends string> {
  key: K;
  direction: Direction;
}

export function nextSort<K extends string>(current: SortState<K> | null, key: K): SortState<K> | null {
  if (!current || current.key !== key) return { key, direction: 'asc' };
  return current.direction === 'asc' ? { key, direction: 'desc' } : null;
}

type Value = string | number | null | undefined;

/** A stable sort by `value(row, key)`; missing values last whichever the direction. */
export function sortRows<T, K extends string>(rows: readonly T[], sort: SortState<K> | null, value: (row: T, key: K) => Value): readonly T[] {
  if (!sort) return rows;
  const sign = sort.direction === 'asc' ? 1 : -1;
  return rows
    .map((row, i) => ({ row, i, v: value(row, sort.key) }))
    .sort((a, b) => {
      const av = a.v;
      const bv = b.v;
      if (av === bv || (av == null && bv == null)) return a.i - b.i;
      if (av == null) return 1;
      if (bv == null) return -1;
      const c = typeof av === 'number' && typeof bv === 'number' ? av - bv : String(av).localeCompare(String(bv));
      return c === 0 ? a.i - b.i : c * sign;
    })
    .map((x) => x.row);
}

/** Working orders (new, partially filled) first, each group newest first: the blotter's own order. */
export function workingFirst<T extends { status: string; createdAt?: string; timestamp?: string }>(orders: readonly T[]): T[] {
  const working = (o: T) => o.status === 'new' || o.status === 'partially_filled';
  const time = (o: T) => Date.parse(o.createdAt ?? o.timestamp ?? '') || 0;
  return [...orders].sort((a, b) => Number(working(b)) - Number(working(a)) || time(b) - time(a));
}
