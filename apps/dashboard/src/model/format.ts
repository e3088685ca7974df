/** Number and time formatting for a dense screen: prices to the tick, sizes with separators. */

import { decimalsOf } from '@qx/protocol';

export { decimalsOf };

const DASH = '—';

export function formatPrice(value: number | null | undefined, tickSize: number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  const d = decimalsOf(tickSize);
  return value.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

export function formatQuantity(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  return value.toLocaleString('en-US', { maximumFractionDigits: 0 });
}

/** Large volumes shortened: 1,234,567 → 1.23M. */
export function formatCompact(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${(value / 1e9).toFixed(2)}B`;
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(1)}K`;
  return formatQuantity(value);
}

/** A signed value with an explicit + (changes, P&L). */
export function formatSigned(value: number | null | undefined, decimals: number, suffix = ''): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  const text = Math.abs(value).toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  const zero = Number(text.replace(/,/g, '')) === 0;
  return `${zero ? '' : value > 0 ? '+' : '−'}${text}${suffix}`;
}

export function signClass(value: number | null | undefined): 'pos' | 'neg' | 'flat' {
  if (value === null || value === undefined || value === 0 || !Number.isFinite(value)) return 'flat';
  return value > 0 ? 'pos' : 'neg';
}

/** HH:MM:SS in UTC, as trading screens show times. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return DASH;
  const t = new Date(iso);
  return Number.isNaN(t.getTime()) ? DASH : t.toISOString().slice(11, 19);
}
