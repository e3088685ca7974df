/** A plain-text table: right-aligned numbers, n/a for missing or non-finite values. */
export type Cell = string | number | boolean | null | undefined;

function format(cell: Cell): string {
  if (cell === null || cell === undefined) return 'n/a';
  if (typeof cell === 'number') {
    if (!Number.isFinite(cell)) return 'n/a';
    if (Number.isInteger(cell)) return cell.toLocaleString('en-US');
    return cell.toLocaleString('en-US', { maximumFractionDigits: 2, minimumFractionDigits: 2 });
  }
  return String(cell);
}

export function renderTable(title: string, columns: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((r) => r.map(format));
  const widths = columns.map((c, i) => Math.max(c.length, ...text.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[], numeric: readonly boolean[]): string =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  const numeric = columns.map((_, i) => rows.some((r) => typeof r[i] === 'number'));
  return [
    `\n${title}`,
    line(columns, numeric),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...text.map((r) => line(r, numeric)),
  ].join('\n');
}
