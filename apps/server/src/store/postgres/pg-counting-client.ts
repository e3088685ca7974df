/**
 * A pg Client that counts its failures in `qx_postgres_errors_total`: a connection refused or
 * lost, a query that fails (callback or promise, as pg-pool and the store call them). The store's
 * pool and the engine leadership's connection are made of it; nothing else about the client changes.
 */
import pg from 'pg';
import { backendErrors } from '../../metrics.js';

type Method = (this: pg.Client, ...args: unknown[]) => unknown;
type Callback = (this: unknown, err: unknown, ...rest: unknown[]) => unknown;

export class CountingClient extends pg.Client {}

for (const name of ['connect', 'query'] as const) {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the client as `this` below
  const original = pg.Client.prototype[name] as Method;
  const counted: Method = function (...args) {
    const last = args.at(-1);
    if (typeof last === 'function') {
      const callback = last as Callback;
      args[args.length - 1] = function (this: unknown, err: unknown, ...rest: unknown[]) {
        if (err) backendErrors.postgres.inc();
        return callback.call(this, err, ...rest);
      };
      return original.apply(this, args);
    }
    const result = original.apply(this, args);
    // a branch of its own: the caller still gets (and handles) the same promise
    if (result instanceof Promise) result.catch(() => backendErrors.postgres.inc());
    return result;
  };
  Object.defineProperty(CountingClient.prototype, name, { value: counted, writable: true, configurable: true });
}
