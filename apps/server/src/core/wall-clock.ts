/** Epoch milliseconds with sub-millisecond precision (for timing a path across processes on one clock). */
import { performance } from 'node:perf_hooks';

export const wallClock = (): number => performance.timeOrigin + performance.now();
