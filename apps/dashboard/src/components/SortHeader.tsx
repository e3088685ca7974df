/** A column heading that sorts its table: click to sort ascending, again descending, a third time back to the table's own order. */
import { useState } from 'react';
import { nextSort, sortRows, type SortState } from '../model/sort.js';

export function useSort<T, K extends string>(rows: readonly T[], value: (row: T, key: K) => string | number | null | undefined) {
  const [sort, setSort] = useState<SortState<K> | null>(null);
  return { sorted: sortRows(rows, sort, value), sort, toggle: (key: K) => setSort((s) => nextSort(s, key)) };
}

export function SortHeader<K extends string>(props: { label: string; sortKey: K; sort: SortState<K> | null; onSort: (key: K) => void; className?: string; title?: string }) {
  const on = props.sort?.key === props.sortKey ? props.sort.direction : null;
  return (
    <th className={props.className} aria-sort={on === 'asc' ? 'ascending' : on === 'desc' ? 'descending' : 'none'} title={props.title}>
      <button type="button" className="th-sort" name={`sort-${props.sortKey}`} onClick={() => props.onSort(props.sortKey)}>
        {props.label}
        <span className="sort-mark" aria-hidden="true">
          {on === 'asc' ? '▲' : on === 'desc' ? '▼' : ''}
        </span>
      </button>
    </th>
  );
}
