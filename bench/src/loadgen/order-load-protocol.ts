/** What the order-load process is asked, and what it answers (shared by both ends). */
import type { SparseCounts } from '../lib/histogram.js';

export interface OrderLoadConfig {
  /** gateways' base URLs: requests go round-robin over them */
  urls: string[];
  /** one bearer token per user (requests go round-robin over the users) */
  tokens: string[];
  /** `closed`: `concurrency` loops, each places then cancels as fast as answered; `open`: a place+cancel pair every 1/rate s */
  mode: 'closed' | 'open';
  concurrency: number;
  /** pairs per second (open mode) */
  rate: number;
  durationMs: number;
  /** a resting limit order that never crosses (placed, then cancelled) */
  order: { commodity: string; side: 'buy' | 'sell'; type: 'limit'; quantity: number; price: number; timeInForce: 'gtc' };
}

export interface OrderLoadStats {
  pid: number;
  cpuUs: number;
  /** place answered 201 */
  placed: number;
  /** cancel answered 200 */
  cancelled: number;
  /** answers that were neither (by status or error) */
  failures: Record<string, number>;
  /** pairs not started because too many were in flight (open mode: the server fell behind) */
  shed: number;
  elapsedMs: number;
  /** place → 201, µs */
  placeLatency: SparseCounts;
  /** cancel → 200, µs */
  cancelLatency: SparseCounts;
}

export type OrderLoadRequest = { type: 'run'; config: OrderLoadConfig } | { type: 'stop' };
