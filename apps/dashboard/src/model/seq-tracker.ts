/**
 * Drops envelopes seen before and notices gaps, per stream (`market-crude_oil`,
 * `orders-trader-1`, `system`, ...). Pure: each call returns a new tracker state.
 */
export type SeqState = Readonly<Record<string, number>>;

export type SeqVerdict = 'fresh' | 'duplicate' | 'gap';

export interface SeqResult {
  state: SeqState;
  /** fresh: the next one; gap: newer, but some were skipped; duplicate: seen already, drop it */
  verdict: SeqVerdict;
}

export const EMPTY_SEQ: SeqState = {};

export function trackSeq(state: SeqState, stream: string, seq: number | undefined): SeqResult {
  // an envelope without seq (an older gateway) cannot be checked: take it
  if (seq === undefined || !Number.isFinite(seq)) return { state, verdict: 'fresh' };
  const last = state[stream];
  if (last !== undefined && seq <= last) return { state, verdict: 'duplicate' };
  const verdict: SeqVerdict = last !== undefined && seq > last + 1 ? 'gap' : 'fresh';
  return { state: { ...state, [stream]: seq }, verdict };
}

/** The last seq of each stream that matches, e.g. to `resume` private streams after a fresh connect. */
export function lastSeqs(state: SeqState, keep: (stream: string) => boolean): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [stream, seq] of Object.entries(state)) if (keep(stream)) out[stream] = seq;
  return out;
}

/**
 * After `resume`, the gateway says where each stream stands. A stream that stands lower than
 * what we hold was restarted (a gateway with a fresh store): follow it, or everything it sends
 * from now on would look like a duplicate.
 */
export function rebaseSeqs(state: SeqState, serverLast: Readonly<Record<string, number>>): SeqState {
  let next = state;
  for (const [stream, seq] of Object.entries(serverLast)) {
    const ours = next[stream];
    if (ours !== undefined && seq < ours) next = { ...next, [stream]: seq };
  }
  return next;
}

/** Forgets the streams that match (market streams restart with the gateway; they are not logged). */
export function forgetSeqs(state: SeqState, drop: (stream: string) => boolean): SeqState {
  const out: Record<string, number> = {};
  for (const [stream, seq] of Object.entries(state)) if (!drop(stream)) out[stream] = seq;
  return out;
}
