/**
 * Test harness: a real server on port 0 with its own data folder, real socket.io clients, and
 * helpers to wait for events with a timeout (so a missing event fails the test, never hangs it).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { io as connect, type Socket, type ManagerOptions, type SocketOptions } from 'socket.io-client';
import { buildServer, type QxApp, type ServerDeps } from '../src/app.js';
import { parseConfig } from '../src/config.js';
import { SecretTokenVerifier } from '../src/auth/token-verifier.js';

export const SECRET = 'test-secret-that-is-long-enough-0123456789';
export const PUBLISH_KEY = 'test-publish-key-0123456789';

export interface TestServer {
  app: QxApp;
  url: string;
  port: number;
  dataDir: string;
  sign(userId: string, opts?: { roles?: string[]; ttlSeconds?: number; nowSeconds?: number }): Promise<string>;
  client(opts?: Partial<ManagerOptions & SocketOptions>): Socket;
  authed(userId: string, opts?: { roles?: string[] }): Promise<Socket>;
  publish(body: unknown, key?: string): Promise<{ status: number; body: any }>;
  /** the value of one Prometheus sample (0 when absent) */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  http(path: string, init?: RequestInit & { token?: string; json?: unknown }): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/**
 * Starts a gateway on port 0. `env` overrides the test defaults (HS256 with SECRET, a publish key,
 * no simulator); an empty string unsets a default (e.g. `{JWT_SECRET: ''}` for demo mode).
 */
export async function startServer(
  env: Record<string, string> = {},
  opts: { dataDir?: string; keepData?: boolean; port?: number; logger?: pino.Logger; deps?: Omit<ServerDeps, 'logger'> } = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'qx-test-'));
  const parsed = parseConfig({
    JWT_SECRET: SECRET,
    PUBLISH_API_KEY: PUBLISH_KEY,
    DATA_DIR: dataDir,
    SIMULATOR: 'off',
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    ...env,
  }, (path) => readFileSync(path, 'utf8'));
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  const app = buildServer(parsed.config, { ...opts.deps, logger: opts.logger ?? pino({ level: process.env['TEST_LOG'] ?? 'silent' }) });
  const { port, url } = await app.listen(opts.port ?? 0, '127.0.0.1');
  const signer = app.devSigner ?? new SecretTokenVerifier(SECRET, {
    issuer: parsed.config.auth.issuer,
    audience: parsed.config.auth.audience,
  });
  const sockets: Socket[] = [];
  const server: TestServer = {
    app,
    url,
    port,
    dataDir,
    sign: (userId, o = {}) => signer.sign(userId, { roles: o.roles ?? [], ttlSeconds: o.ttlSeconds ?? 3600, ...(o.nowSeconds ? { nowSeconds: o.nowSeconds } : {}) }),
    client(o = {}) {
      const s = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true, ...o });
      sockets.push(s);
      return s;
    },
    async authed(userId, o = {}) {
      const token = await server.sign(userId, o);
      const s = server.client();
      const ok = once(s, 'auth-success');
      s.emit('authenticate', { userId, token });
      await ok;
      return s;
    },
    async publish(body, key = app.publishApiKey) {
      return server.http('/api/v1/publish', { method: 'POST', json: body, headers: { authorization: `Bearer ${key}` } });
    },
    async http(path, init = {}) {
      const headers: Record<string, string> = { ...(init.headers as Record<string, string> | undefined) };
      if (init.token) headers['authorization'] = `Bearer ${init.token}`;
      let body = init.body;
      if (init.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(init.json);
      }
      const res = await fetch(url + path, { ...init, headers, body: body ?? null });
      const text = await res.text();
      let parsedBody: unknown = text;
      try {
        parsedBody = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: parsedBody };
    },
    async metric(name, labels = {}) {
      const res = await fetch(`${url}/metrics`);
      return readMetric(await res.text(), name, labels);
    },
    async close() {
      for (const s of sockets) s.disconnect();
      await app.close();
      if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

/** A pino logger at `level` that keeps every line it writes, parsed (for tests of the log). */
export function capturingLogger(level = 'debug'): { logger: pino.Logger; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, any>) });
  return { logger, lines };
}

/** Resolves with the first `event` (its first argument), or rejects after `ms`. */
export function once<T = any>(socket: Socket, event: string, ms = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, handler);
      reject(new Error(`timed out waiting for ${event}`));
    }, ms);
    const handler = (data: T) => {
      clearTimeout(timer);
      resolve(data);
    };
    socket.once(event, handler);
  });
}

/** Collects every `event` a socket receives until read. */
export function collect<T = any>(socket: Socket, event: string): T[] {
  const seen: T[] = [];
  socket.on(event, (data: T) => seen.push(data));
  return seen;
}

/** Emits with an acknowledgement and resolves with it (or rejects after `ms`). */
export function request<T = any>(socket: Socket, event: string, ...args: unknown[]): Promise<T> {
  return socket.timeout(3000).emitWithAck(event, ...args) as Promise<T>;
}

/** Waits until `predicate` holds (it may be async: a metric, a row), polling; rejects after `ms`. */
export async function until(predicate: () => boolean | Promise<boolean>, ms = 3000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!(await predicate())) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves after `ms`, to prove that something did NOT arrive. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const marketUpdate = (commodity = 'crude_oil', price = 75.25) => ({
  event: 'market-update',
  payload: { commodity, price, change: 0.75, changePercent: 1.01, volume: 125000, bid: price - 0.05, ask: price + 0.05 },
});
export const orderUpdate = (userId: string, id = 'order-456') => ({
  event: 'order-update',
  userId,
  payload: { id, userId, status: 'partially_filled', filledQuantity: 500, remainingQuantity: 500, averagePrice: 75.23 },
});
export const tradeUpdate = (userId: string, id = 'trade-123') => ({
  event: 'trade-update',
  userId,
  payload: { id, orderId: 'order-456', userId, commodity: 'crude_oil', quantity: 1000, price: 75.25, side: 'buy', status: 'executed', executionTime: '2024-07-29T22:00:00.000Z' },
});
export const complianceAlert = (userId: string) => ({
  event: 'compliance-alert',
  userId,
  payload: {
    type: 'COMPLIANCE_ALERT',
    checkType: 'position_limit',
    severity: 'high',
    message: 'Position limit approaching for crude oil',
    userId,
    details: { currentPosition: 9500000, limit: 10000000, utilization: 0.95 },
  },
});
export const systemAlert = () => ({
  event: 'system-alert',
  payload: { alertType: 'market_volatility', severity: 'warning', message: 'High volatility detected in crude oil market', affectedCommodities: ['crude_oil'] },
});

/** Reads one sample of Prometheus text exposition; labels must all match (others may exist). */
export function readMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have: Record<string, string> = {};
    for (const pair of (m[3] ?? '').match(/[a-zA-Z_]+="[^"]*"/g) ?? []) {
      const eq = pair.indexOf('=');
      have[pair.slice(0, eq)] = pair.slice(eq + 2, -1);
    }
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(m[4]);
  }
  return total;
}

/** Fails if `event` arrives within `ms` (to prove that something is NOT delivered). */
export async function none(socket: Socket, event: string, ms = 300): Promise<void> {
  const seen: unknown[] = [];
  const handler = (data: unknown) => seen.push(data);
  socket.on(event, handler);
  await sleep(ms);
  socket.off(event, handler);
  if (seen.length) throw new Error(`unexpected ${event}: ${JSON.stringify(seen[0])}`);
}

/** Collects every event a socket receives, in order, as [name, firstArg]. */
export function recordAll(socket: Socket): [string, any][] {
  const seen: [string, any][] = [];
  socket.onAny((event: string, data: unknown) => seen.push([event, data]));
  return seen;
}

/** Resolves once the socket is connected (or rejects on connect_error). */
export function connected(socket: Socket, ms = 3000): Promise<void> {
  if (socket.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out connecting')), ms);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('connect_error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Subscribes to market data and waits for the snapshots that follow (one per commodity that has a
 * price: the trading core publishes the opening prices at start), so later updates are told apart.
 */
export async function subscribeMarket(server: TestServer, socket: Socket, commodities: string[]): Promise<any[]> {
  const expected = commodities.filter((c) => server.app.publisher.latestMarketFrame(c) !== undefined).length;
  const snapshots: any[] = [];
  const onUpdate = (e: any) => snapshots.push(e);
  socket.on('market-update', onUpdate);
  try {
    const ack = await request(socket, 'subscribe-market', commodities);
    if (!ack.ok) throw new Error(`subscribe-market failed: ${JSON.stringify(ack)}`);
    await until(() => snapshots.length >= expected, 3000, 'market snapshots');
  } finally {
    socket.off('market-update', onUpdate);
  }
  return snapshots;
}

/** The seq of the latest market-update of a commodity (0 when none). */
export const marketSeq = (server: TestServer, commodity: string): number => server.app.publisher.latestMarketFrame(commodity)?.seq ?? 0;

/** Every event the server answers a request with: a confirmation, an error, or the auth result. */
export const ANSWER_EVENTS: ReadonlySet<string> = new Set([
  'request-error',
  'auth-error',
  'auth-success',
  'trading-joined',
  'trading-left',
  'market-subscribed',
  'market-unsubscribed',
  'orders-subscribed',
  'orders-unsubscribed',
  'compliance-subscribed',
  'compliance-unsubscribed',
  'pong',
  'resumed',
]);
