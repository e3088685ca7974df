/**
 * One clock for every bench process: CLOCK_MONOTONIC (process.hrtime) is shared by all processes
 * on a machine, so a publish time stamped in one process and read in another is exact. The
 * parent fixes an epoch base once and hands it to its children, so `sentAt` still looks like an
 * epoch in milliseconds (which the protocol expects) without per-process wall-clock skew.
 */
export const CLOCK_BASE_ENV = 'BENCH_CLOCK_BASE_MS';

function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function initialBase(): number {
  const inherited = Number(process.env[CLOCK_BASE_ENV]);
  if (Number.isFinite(inherited) && inherited > 0) return inherited;
  return Date.now() - monotonicMs();
}

const base = initialBase();

/** Milliseconds since the epoch, sub-millisecond resolution, consistent across bench processes. */
export function nowMs(): number {
  return base + monotonicMs();
}

/** The env entry that makes a child process share this process's clock. */
export function clockEnv(): Record<string, string> {
  return { [CLOCK_BASE_ENV]: String(base) };
}
