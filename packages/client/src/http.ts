/** The `fetch` the SDK calls (the global one by default) and what its failures mean. */
import { QuantEnergxError } from './errors.js';

export type FetchLike = (input: string, init?: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<{
  ok: boolean;
  status: number;
  headers?: { get(name: string): string | null };
  json(): Promise<unknown>;
}>;

/** What a failed fetch means: our time limit, the caller's signal, or an unreachable gateway. */
export function fetchFailure(err: unknown, what: string, timeoutMs: number, signal: AbortSignal | undefined, timeout: AbortSignal): QuantEnergxError {
  if (signal?.aborted) return new QuantEnergxError('ABORTED', `${what}: aborted`, { cause: signal.reason });
  if (timeout.aborted || (err instanceof Error && err.name === 'TimeoutError')) {
    return new QuantEnergxError('REQUEST_TIMEOUT', `${what}: no answer within ${timeoutMs} ms`, { cause: err });
  }
  return new QuantEnergxError('HTTP_ERROR', `${what}: gateway unreachable: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

/** A signal that fires when either does (`AbortSignal.any` where the runtime has it). */
export function eitherSignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([a, b]);
  const controller = new AbortController();
  for (const s of [a, b]) {
    if (s.aborted) controller.abort(s.reason);
    else s.addEventListener('abort', () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}
