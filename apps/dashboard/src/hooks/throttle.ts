/**
 * Leading-and-trailing throttle: runs at once, then at most once per `ms`, and once more after
 * a burst so the last call is never lost. `cancel()` drops a pending trailing run.
 */
export interface Throttled {
  (): void;
  cancel: () => void;
}

export function throttle(fn: () => void, ms: number, now: () => number = Date.now): Throttled {
  let last = -Infinity;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const run = () => {
    timer = null;
    last = now();
    fn();
  };
  const throttled = (() => {
    const wait = last + ms - now();
    if (wait <= 0 && timer === null) run();
    else timer ??= setTimeout(run, Math.max(0, wait));
  }) as Throttled;
  throttled.cancel = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
  return throttled;
}
