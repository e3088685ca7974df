/**
 * Entry point of the soak's traders process: `users` users, one lean socket each, following their
 * own orders and fills (the `orders-<user>` and `trading-<user>` private streams; every
 * `bookEvery`-th also the book and the tape), placing crossing orders at a fixed rate — half over
 * REST on another gateway than the socket's, half with `place-order` on the socket — and timing
 * each from the place to the user's own order-update for it. Sockets are dropped on request and
 * come back resuming both streams from the last seq they hold; a token is refreshed on request.
 * At the end it checks what a user would: every accepted order is in the REST order list with its
 * fills, every private seq arrived once and in order.
 */
import { nowMs } from '../lib/clock.js';
import { Histogram } from '../lib/histogram.js';
import { keepAliveAgent, postJson } from '../lib/http.js';
import { serveIpc } from '../lib/ipc.js';
import { maxLifetimeMs } from '../lib/lifetime.js';
import { selfCpuUs } from '../lib/proc-stats.js';
import { signUserToken } from '../lib/tokens.js';
import { request as httpRequest, type Agent } from 'node:http';
import { rooms } from '@qx/protocol';
import { bump } from './group-counters.js';
import { LeanSocket, type Sink, type Subscription } from './lean-socket.js';
import { ClientEvent, ServerEvent, decodeEvent, socketUrl } from './wire.js';
import type { TradersConfig, TradersRequest, TradersStats, TradersVerdict } from './soak-traders-protocol.js';

const ORDERS = '/api/v1/trading/orders';
const TRADES = '/api/v1/trading/trades';

/** One private stream as a socket (and its successors after reconnects) saw it. */
class StreamSeqs {
  readonly seen = new Set<number>();
  max = 0;
  duplicates = 0;
  outOfOrder = 0;

  /**
   * `replaying`: the socket is still being answered for its subscriptions, `resume` among them. A
   * resume replays everything after the seq it names (docs/protocol.md), so an event this stream
   * already received live since the subscribe comes again, and a missed one comes after newer
   * ones: the documented overlap a client tells apart by seq, not a duplicate or a disorder.
   */
  add(seq: number, replaying = false): void {
    if (this.seen.has(seq)) {
      if (!replaying) this.duplicates++;
      return;
    }
    if (seq < this.max && !replaying) this.outOfOrder++;
    this.seen.add(seq);
    if (seq > this.max) this.max = seq;
  }

  /** the highest seq up to which every seq arrived (what a reconnect resumes after) */
  contiguous(): number {
    let s = 0;
    while (this.seen.has(s + 1)) s++;
    return s;
  }

  missing(): number {
    return this.max - this.seen.size;
  }

  /** the first few seqs that never arrived */
  holes(limit = 5): number[] {
    const out: number[] = [];
    for (let s = 1; s <= this.max && out.length < limit; s++) if (!this.seen.has(s)) out.push(s);
    return out;
  }
}

interface User {
  index: number;
  id: string;
  token: string;
  socket: LeanSocket | null;
  ready: boolean;
  inFlight: boolean;
  orders: StreamSeqs;
  trading: StreamSeqs;
  accepted: Set<string>;
  /** order id → when its first order-update arrived (ms, shared clock) */
  updated: Map<string, number>;
  /** order id → when it was placed, until its update is timed */
  placedAt: Map<string, number>;
  /** times this user's socket came back (resuming) */
  resumes: number;
}

let config: TradersConfig;
const users: User[] = [];
const latency = new Histogram();
const refused = new Map<string, number>();
const closes = new Map<string, number>();
const counters = { placed: 0, accepted: 0, privateEvents: 0, bookEvents: 0, tapeEvents: 0, resumed: 0, resumeFailed: 0, refreshOk: 0, refreshFailed: 0 };
let agents: Agent[] = [];
let placing = false;
let loop: Promise<void> | null = null;
let closing = false;

function payloadId(data: unknown): string | null {
  const id = (data as { payload?: { id?: unknown } } | null)?.payload?.id;
  return typeof id === 'string' ? id : null;
}

function seqOf(data: unknown): number {
  const seq = (data as { seq?: unknown } | null)?.seq;
  return typeof seq === 'number' ? seq : Number.NaN;
}

function timeUpdate(user: User, orderId: string, at: number): void {
  if (!user.updated.has(orderId)) user.updated.set(orderId, at);
  const t0 = user.placedAt.get(orderId);
  if (t0 !== undefined) {
    user.placedAt.delete(orderId);
    latency.record((user.updated.get(orderId)! - t0) * 1000);
  }
}

const sink: Sink = {
  marketUpdate: () => undefined,
  orderUpdate(socket, frame) {
    const user = users[socket.index]!;
    if (user.socket !== socket) return;
    const event = decodeEvent(frame);
    if (!event) return;
    counters.privateEvents++;
    user.orders.add(seqOf(event.data), replaying(socket));
    const id = payloadId(event.data);
    if (id) timeUpdate(user, id, nowMs());
  },
  otherEvent(socket, name, data) {
    const user = users[socket.index]!;
    if (user.socket !== socket) return;
    if (name === ServerEvent.TradeUpdate) {
      counters.privateEvents++;
      user.trading.add(seqOf(data), replaying(socket));
    } else if (name === ServerEvent.BookUpdate || name === ServerEvent.BookSnapshot) counters.bookEvents++;
    else if (name === ServerEvent.MarketTrade) counters.tapeEvents++;
    else if (name === ServerEvent.AuthSuccess) counters.refreshOk++;
    else if (name === ServerEvent.AuthError) counters.refreshFailed++;
  },
  closed(socket, code, reason) {
    const user = users[socket.index]!;
    if (user.socket !== socket) return;
    bump(closes, `${code}${reason ? ` ${reason.slice(0, 60)}` : ''}`);
    user.ready = false;
    // cut off by the server (not by us): come back and resume, as a client library would
    if (!closing) void reconnect(user);
  },
};

/** sockets that came back with a `resume` among their subscriptions */
const resuming = new WeakSet<LeanSocket>();

/** A resuming socket still being answered for its subscriptions: its `resume` may be replaying. */
function replaying(socket: LeanSocket): boolean {
  return socket.subscribing && resuming.has(socket);
}

function createSocket(user: User, resume: boolean): LeanSocket {
  const subscriptions: Subscription[] = [
    { event: ClientEvent.SubscribeOrders, data: user.id, confirm: ServerEvent.OrdersSubscribed },
    { event: ClientEvent.JoinTrading, data: user.id, confirm: ServerEvent.TradingJoined },
  ];
  if (resume) {
    const from = { [rooms.orders(user.id)]: user.orders.contiguous(), [rooms.trading(user.id)]: user.trading.contiguous() };
    subscriptions.push({ event: ClientEvent.Resume, data: from, confirm: ServerEvent.Resumed });
  }
  if (config.bookEvery > 0 && user.index % config.bookEvery === 0) {
    subscriptions.push({ event: ClientEvent.SubscribeBook, data: { commodity: config.commodity }, confirm: ServerEvent.BookSubscribed });
    subscriptions.push({ event: ClientEvent.SubscribeTrades, data: [config.commodity], confirm: ServerEvent.TradesSubscribed });
  }
  const socket = new LeanSocket(
    user.index,
    user.id,
    {
      wsUrl: socketUrl(config.urls[user.index % config.urls.length]!),
      sequential: true,
      handshakeAuth: { token: user.token },
      authenticateEvent: null,
      expectAuthSuccess: true,
      subscriptions,
      localAddress: `127.0.0.${config.sourceBase}`,
      timeoutMs: config.connectTimeoutMs,
    },
    sink,
  );
  if (resume) resuming.add(socket);
  user.socket = socket;
  return socket;
}

async function reconnect(user: User): Promise<boolean> {
  const deadline = performance.now() + 60_000;
  while (!closing && performance.now() < deadline) {
    try {
      await createSocket(user, true).connect();
      user.ready = true;
      user.resumes++;
      counters.resumed++;
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  if (!closing) counters.resumeFailed++;
  return false;
}

async function start(c: TradersConfig): Promise<{ ready: number }> {
  config = c;
  agents = c.urls.map(() => keepAliveAgent(64));
  for (let i = 0; i < c.users; i++) {
    const id = `soak-trader-${i}`;
    users.push({ index: i, id, token: await signUserToken(c.secret, id), socket: null, ready: false, inFlight: false, orders: new StreamSeqs(), trading: new StreamSeqs(), accepted: new Set(), updated: new Map(), placedAt: new Map(), resumes: 0 });
  }
  await Promise.all(
    users.map(async (u) => {
      await createSocket(u, false).connect();
      u.ready = true;
    }),
  );
  placing = true;
  loop = placeLoop();
  return { ready: users.filter((u) => u.ready).length };
}

function accept(user: User, orderId: string, t0: number): void {
  counters.accepted++;
  user.accepted.add(orderId);
  const at = user.updated.get(orderId);
  // the order-update may be written to the socket before the HTTP answer arrives
  if (at !== undefined) latency.record((at - t0) * 1000);
  else user.placedAt.set(orderId, t0);
}

async function place(user: User, n: number): Promise<void> {
  user.inFlight = true;
  // sides alternate per user and per round, so the book stays shallow and the orders cross
  const side = (user.index + Math.floor(n / config.users)) % 2 === 0 ? 'buy' : 'sell';
  const body = { commodity: config.commodity, side, type: 'limit', quantity: 1 + (n % 3), price: config.price, timeInForce: 'gtc' };
  const t0 = nowMs();
  counters.placed++;
  try {
    if (n % 2 === 0 || !user.socket) {
      const g = (user.index + 1) % config.urls.length;
      const res = await postJson(agents[g]!, new URL(ORDERS, config.urls[g]), JSON.stringify(body), { authorization: `Bearer ${user.token}` });
      if (res.status === 201) accept(user, (JSON.parse(res.body) as { order: { id: string } }).order.id, t0);
      else bump(refused, `rest ${res.status} ${res.body.slice(0, 60)}`);
    } else {
      const socket = user.socket;
      const answer = await new Promise<unknown>((resolve) => {
        const timer = setTimeout(() => resolve({ ok: false, error: { code: 'NO_ACK' } }), 15_000);
        socket.emitWithAck(ClientEvent.PlaceOrder, body, (a) => {
          clearTimeout(timer);
          resolve(a);
        });
      });
      const a = answer as { ok?: boolean; order?: { id?: string }; error?: { code?: string } };
      if (a.ok === true && typeof a.order?.id === 'string') accept(user, a.order.id, t0);
      else bump(refused, `socket ${a.error?.code ?? 'refused'}`);
    }
  } catch (error) {
    bump(refused, error instanceof Error ? error.message.slice(0, 60) : 'error');
  } finally {
    user.inFlight = false;
  }
}

async function placeLoop(): Promise<void> {
  const started = performance.now();
  const intervalMs = 1000 / config.rate;
  let n = 0;
  let turn = 0;
  while (placing) {
    const user = users[turn++ % users.length]!;
    // a user whose socket is reconnecting waits: its update would be timed with the reconnect in it
    if (user.ready && !user.inFlight) void place(user, n++);
    const due = started + turn * intervalMs;
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
  }
}

function stats(resetLatency: boolean): TradersStats {
  const result: TradersStats = {
    pid: process.pid,
    cpuUs: selfCpuUs(),
    ready: users.filter((u) => u.ready).length,
    placed: counters.placed,
    accepted: counters.accepted,
    refused: Object.fromEntries(refused),
    orderLatency: latency.toSparse(),
    privateEvents: counters.privateEvents,
    bookEvents: counters.bookEvents,
    tapeEvents: counters.tapeEvents,
    resumed: counters.resumed,
    resumeFailed: counters.resumeFailed,
    refreshOk: counters.refreshOk,
    refreshFailed: counters.refreshFailed,
    closes: Object.fromEntries(closes),
  };
  if (resetLatency) latency.reset();
  return result;
}

async function cycle(count: number): Promise<{ dropped: number; reconnected: number; failed: number }> {
  const ready = users.filter((u) => u.ready && !u.inFlight);
  const chosen: User[] = [];
  while (chosen.length < count && ready.length > 0) chosen.push(ready.splice(Math.floor(Math.random() * ready.length), 1)[0]!);
  const results = await Promise.all(
    chosen.map((u) => {
      u.ready = false;
      u.socket?.terminate();
      return reconnect(u);
    }),
  );
  const reconnected = results.filter(Boolean).length;
  return { dropped: chosen.length, reconnected, failed: chosen.length - reconnected };
}

async function refresh(): Promise<void> {
  const ready = users.filter((u) => u.ready);
  const user = ready[Math.floor(Math.random() * ready.length)];
  if (!user?.socket) return;
  // a fresh token (a later iat), for the same user
  await new Promise((r) => setTimeout(r, 1000));
  user.token = await signUserToken(config.secret, user.id);
  user.socket.emit(ClientEvent.Authenticate, { userId: user.id, token: user.token });
}

/** Whether the server's event log (GET /api/v1/events) holds `seq` of `stream`, and as what. */
async function inEventLog(user: User, stream: string, seq: number): Promise<string> {
  const base = config.urls[user.index % config.urls.length]!;
  const url = new URL(`/api/v1/events?stream=${encodeURIComponent(stream)}&after=${seq - 1}&limit=1`, base);
  try {
    const { status, body } = await getJson(agents[user.index % agents.length]!, url, user.token);
    const event = (body as { events?: { seq: number; event: string }[] }).events?.[0];
    if (status !== 200) return `event log answered ${status}`;
    return event?.seq === seq ? `in the event log as ${event.event}` : 'not in the event log';
  } catch (err) {
    return `event log unreadable (${err instanceof Error ? err.message : String(err)})`;
  }
}

function getJson(agent: Agent, url: URL, token: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error('http timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Every page of a list endpoint (`key`: orders or trades), newest first. */
async function listAll<T>(user: User, path: string, key: string, errors: Map<string, number>): Promise<T[]> {
  const g = user.index % config.urls.length;
  const out: T[] = [];
  let before: string | null = null;
  for (;;) {
    const url = new URL(path, config.urls[g]);
    url.searchParams.set('limit', '500');
    url.searchParams.set('commodity', config.commodity);
    if (before) url.searchParams.set('before', before);
    const res = await getJson(agents[g]!, url, user.token).catch((e: unknown) => ({ status: 0, body: String(e) }));
    if (res.status !== 200) {
      bump(errors, `${path} ${res.status}`);
      return out;
    }
    const body = res.body as Record<string, unknown> & { nextCursor: string | null };
    out.push(...((body[key] as T[]) ?? []));
    if (!body.nextCursor) return out;
    before = body.nextCursor;
  }
}

async function stopOrders(): Promise<void> {
  placing = false;
  await loop;
  const deadline = performance.now() + 15_000;
  while (users.some((u) => u.inFlight) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  // the last updates, and any socket still resuming: on a saturated machine delivery can lag by
  // tens of seconds, and an event still on its way is late, not lost
  const settle = performance.now() + 60_000;
  const unsettled = (u: User): boolean => !u.ready || u.orders.missing() > 0 || u.trading.missing() > 0 || [...u.accepted].some((id) => !u.updated.has(id));
  while (performance.now() < settle && users.some(unsettled)) await new Promise((r) => setTimeout(r, 100));
}

async function verify(): Promise<TradersVerdict> {
  const errors = new Map<string, number>();
  const examples: string[] = [];
  const v: TradersVerdict = {
    users: users.length,
    accepted: 0,
    missing: 0,
    fillMismatches: 0,
    filledOrders: 0,
    fills: 0,
    updatesMissing: 0,
    privateSeqs: 0,
    privateMissing: 0,
    privateDuplicates: 0,
    privateOutOfOrder: 0,
    restErrors: {},
    examples,
  };
  const note = (s: string): void => void (examples.length < 10 && examples.push(s));
  for (const user of users) {
    const [orders, trades] = await Promise.all([
      listAll<{ id: string; filledQuantity: number }>(user, ORDERS, 'orders', errors),
      listAll<{ orderId: string; quantity: number }>(user, TRADES, 'trades', errors),
    ]);
    const fills = new Map<string, number>();
    for (const t of trades) fills.set(t.orderId, (fills.get(t.orderId) ?? 0) + t.quantity);
    const listed = new Map(orders.map((o) => [o.id, o]));
    v.fills += trades.length;
    for (const id of user.accepted) {
      v.accepted++;
      const o = listed.get(id);
      if (!o) {
        v.missing++;
        note(`${user.id}: accepted order ${id} not in GET ${ORDERS}`);
        continue;
      }
      if (o.filledQuantity > 0) v.filledOrders++;
      const filled = fills.get(id) ?? 0;
      if (Math.abs(filled - o.filledQuantity) > 1e-9) {
        v.fillMismatches++;
        note(`${user.id}: order ${id} filledQuantity ${o.filledQuantity}, its fills sum to ${filled}`);
      }
      if (!user.updated.has(id)) {
        v.updatesMissing++;
        note(`${user.id}: no order-update received for accepted order ${id}`);
      }
    }
    for (const [name, s] of [['orders', user.orders], ['trading', user.trading]] as const) {
      v.privateSeqs += s.seen.size;
      v.privateMissing += s.missing();
      v.privateDuplicates += s.duplicates;
      v.privateOutOfOrder += s.outOfOrder;
      if (s.missing() > 0 || s.duplicates > 0 || s.outOfOrder > 0) {
        // where each hole is: in the server's event log (stored, not delivered) or not (never stored under that seq)
        const logged = await Promise.all(s.holes().map((seq) => inEventLog(user, `${name}-${user.id}`, seq)));
        note(
          `${name}-${user.id}: seqs up to ${s.max}, ${s.missing()} missing (${s.holes().map((seq, i) => `${seq}: ${logged[i]}`).join(', ')}), ` +
            `${s.duplicates} duplicated, ${s.outOfOrder} out of order; the socket resumed ${user.resumes} times`,
        );
      }
    }
  }
  v.restErrors = Object.fromEntries(errors);
  return v;
}

serveIpc(async (raw) => {
  const request = raw as TradersRequest;
  switch (request.type) {
    case 'start':
      return start(request.config);
    case 'stats':
      return stats(request.resetLatency);
    case 'cycle':
      return cycle(request.count);
    case 'refresh':
      await refresh();
      return null;
    case 'stop-orders':
      await stopOrders();
      return null;
    case 'verify':
      return verify();
    case 'close':
      closing = true;
      placing = false;
      for (const u of users) u.socket?.terminate();
      for (const a of agents) a.destroy();
      setTimeout(() => process.exit(0), 50);
      return null;
  }
}, maxLifetimeMs());
