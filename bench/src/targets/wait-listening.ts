import type { ChildProcess } from 'node:child_process';
import { getStatus } from '../lib/http.js';

/**
 * Resolves when the child answers GET /ready with 200 (its `"msg":"listening"` line may be
 * filtered by LOG_LEVEL, so readiness is polled); rejects if it exits first or after `timeoutMs`.
 * Keeps draining stdout so a chatty server never blocks on a full pipe.
 */
export async function waitListening(child: ChildProcess, baseUrl: string, label: string, timeoutMs = 30_000): Promise<void> {
  child.stdout?.resume();
  const state: { exited: string | null } = { exited: null };
  const onExit = (code: number | null, signal: string | null): void => {
    state.exited = signal ?? String(code);
  };
  child.once('exit', onExit);
  try {
    const deadline = performance.now() + timeoutMs;
    const ready = new URL('/ready', baseUrl);
    while (performance.now() < deadline) {
      if (state.exited !== null) throw new Error(`${label} exited (${state.exited}) before it was ready`);
      if ((await getStatus(ready)) === 200) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${label}: GET /ready not 200 after ${timeoutMs} ms`);
  } finally {
    child.off('exit', onExit);
  }
}
