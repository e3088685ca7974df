/**
 * What the client's parts share: the socket, the options, the counters and the way out to the
 * application (events, background errors). Each part (session, requests, subscriptions, streams,
 * market data, orders) gets this and the few parts it calls; none of them knows the others' state.
 */
import type { Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '@qx/protocol/wire';
import type { QuantEnergxClientEvents, QuantEnergxClientOptions } from './types.js';

export type QuantEnergxSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Counters, for monitoring and tests. */
export interface ClientStats {
  duplicatesDropped: number;
  gapsRecovered: number;
  eventsLost: number;
  resumes: number;
  logReads: number;
  tokenRefreshes: number;
  bookResyncs: number;
}

export type Emit = <E extends keyof QuantEnergxClientEvents>(event: E, ...args: Parameters<QuantEnergxClientEvents[E]>) => void;

export interface ClientContext {
  readonly userId: string;
  readonly options: QuantEnergxClientOptions;
  readonly socket: QuantEnergxSocket;
  readonly stats: ClientStats;
  readonly requestTimeoutMs: number;
  readonly emit: Emit;
  /** hands a background failure to the application (`error` event) */
  readonly report: (err: unknown) => void;
  readonly listenerCount: (event: keyof QuantEnergxClientEvents) => number;
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
