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

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/**
 * The full time for a hover (title): date, time to the millisecond and zone, in UTC and in the
 * viewer's own zone — `2026-12-02 03:01:02.123 UTC · 04:01:02 CET`.
 */
export function formatFullTime(iso: string | number | null | undefined, timeZone?: string): string | undefined {
  if (iso === null || iso === undefined || iso === '') return undefined;
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return undefined;
  const utc = `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())} ${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}.${pad(t.getUTCMilliseconds(), 3)} UTC`;
  const local = t.toLocaleString('en-GB', { ...(timeZone ? { timeZone } : {}), hour: '2-digit', minute: '2-digit', second: '2-digit', day: '2-digit', month: 'short', timeZoneName: 'short' });
  return `${utc} · local ${local}`;
}

/** A quantity in units as lots of `contractSize` (1 lot of crude = 1,000 bbl): `2`, `0.5`, `1,000`. */
export function toLots(units: number, contractSize: number): number {
  return contractSize > 0 ? units / contractSize : units;
}

export function formatLots(units: number | null | undefined, contractSize: number): string {
  if (units === null || units === undefined || !Number.isFinite(units)) return DASH;
  return toLots(units, contractSize).toLocaleString('en-US', { maximumFractionDigits: 3 });
}

/** `1 lot (1,000 bbl)`, `144 lots (144,000 bbl)`. */
export function formatLotsWithUnits(units: number, commodity: { contractSize: number; unit: string }): string {
  const lots = toLots(units, commodity.contractSize);
  return `${formatLots(units, commodity.contractSize)} ${lots === 1 ? 'lot' : 'lots'} (${formatQuantity(units)} ${commodity.unit})`;
}

/** Money with its currency, to the cent: `USD 75,120.00`. */
export function formatMoney(value: number | null | undefined, currency: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  return `${currency} ${value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}
