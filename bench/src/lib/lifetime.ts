/** How long a bench child may live at most (set by the harness; a safety net, not a timer). */
export const LIFETIME_ENV = 'BENCH_MAX_LIFETIME_MS';

export function maxLifetimeMs(): number {
  const value = Number(process.env[LIFETIME_ENV]);
  return Number.isFinite(value) && value > 0 ? value : 10 * 60_000;
}
