/**
 * Helpers for this package's tests (and the server's, if useful): a settable clock and a check
 * of emitted payloads against the protocol's schemas. No assertions here, so no node imports.
 */
import { dataPayloadSchemas, describeZodError, marketStatusPayloadSchema } from '@qx/protocol';
import type { EngineEvent } from './events.js';
import type { MarketStatusChange } from './market-status.js';

export interface ManualClock {
  now: () => number;
  set: (ms: number) => void;
  advance: (ms: number) => void;
}

export function manualClock(startMs = Date.UTC(2024, 6, 29, 14, 0, 0)): ManualClock {
  let t = startMs;
  return {
    now: () => t,
    set: (ms) => {
      t = ms;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

/** Every problem found validating events against @qx/protocol's payload schemas (empty = all good). */
export function payloadProblems(events: readonly EngineEvent[]): string[] {
  const problems: string[] = [];
  for (const e of events) {
    const parsed = dataPayloadSchemas[e.event].safeParse(e.payload);
    if (!parsed.success) problems.push(`${e.event}: ${describeZodError(parsed.error).message}`);
  }
  return problems;
}

/** The same for market-status changes (numbered as the server would: seq 1, 2, …). */
export function marketStatusProblems(changes: readonly MarketStatusChange[]): string[] {
  const problems: string[] = [];
  changes.forEach((c, i) => {
    const parsed = marketStatusPayloadSchema.safeParse({ ...c, seq: i + 1 });
    if (!parsed.success) problems.push(`market-status: ${describeZodError(parsed.error).message}`);
  });
  return problems;
}
