/** What the soak's traders process is asked, and what it answers (shared by both ends). */
import type { SparseCounts } from '../lib/histogram.js';

export interface TradersConfig {
  /** every gateway's base URL: user u's socket is on gateway u % n, its REST orders go to (u + 1) % n */
  urls: string[];
  secret: string;
  users: number;
  /** orders per second over all users, one in flight per user; half over REST, half with place-order */
  rate: number;
  commodity: string;
  /** every order at this price, sides alternating: they cross, so most fill */
  price: number;
  /** every `bookEvery`-th user's socket also follows the book and the tape of the commodity */
  bookEvery: number;
  /** source addresses 127.0.0.<sourceBase> */
  sourceBase: number;
  connectTimeoutMs: number;
}

export interface TradersStats {
  pid: number;
  cpuUs: number;
  ready: number;
  placed: number;
  accepted: number;
  refused: Record<string, number>;
  /** place (REST or socket) → the user's own order-update for that order, µs, since the last reset */
  orderLatency: SparseCounts;
  privateEvents: number;
  bookEvents: number;
  tapeEvents: number;
  resumed: number;
  resumeFailed: number;
  refreshOk: number;
  refreshFailed: number;
  closes: Record<string, number>;
}

export interface TradersVerdict {
  users: number;
  /** accepted (201 / ack ok) orders, and those the REST order list of their user does not show */
  accepted: number;
  missing: number;
  /** orders whose filledQuantity differs from the sum of their fills in GET /trades */
  fillMismatches: number;
  filledOrders: number;
  fills: number;
  /** accepted orders whose owner's socket never received an order-update for them */
  updatesMissing: number;
  /** private stream seqs (order-update, trade-update) over every user */
  privateSeqs: number;
  privateMissing: number;
  privateDuplicates: number;
  privateOutOfOrder: number;
  restErrors: Record<string, number>;
  /** up to 10 examples of what went wrong */
  examples: string[];
}

export type TradersRequest =
  | { type: 'start'; config: TradersConfig }
  | { type: 'stats'; resetLatency: boolean }
  /** drop `count` random sockets; each reconnects and resumes its private stream from its last seq */
  | { type: 'cycle'; count: number }
  /** one socket sends `authenticate` with a fresh token */
  | { type: 'refresh' }
  /** stop placing orders, wait for the answers and updates in flight */
  | { type: 'stop-orders' }
  | { type: 'verify' }
  | { type: 'close' };
