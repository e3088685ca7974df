/**
 * A self-contained matching benchmark: a seeded mix of passive limit orders, cancels and
 * marketable orders against one book (see `nextOp`). `through: 'book'` measures the OrderBook alone,
 * `'exchange'` the full Exchange path (validation, positions, ids) with agent users, who
 * produce no events or journal — the simulator's hot path.
 */
import { DEFAULT_COMMODITIES, type Commodity } from '@qx/protocol';
import { Exchange } from './exchange.js';
import { Order } from './order.js';
import type { MatchListener } from './order-book.js';
import { OrderBook } from './order-book.js';
import type { OrderState } from './order.js';
import { mulberry32, type RandomSource } from './prng.js';
import type { Side } from './types.js';

export interface BenchMatchingOptions {
  operations: number;
  seed: number;
  through?: 'book' | 'exchange';
  /** a monotonic ms clock for timing; default `performance.now` */
  now?: () => number;
}

export interface BenchMatchingResult {
  through: 'book' | 'exchange';
  operations: number;
  seconds: number;
  opsPerSecond: number;
  adds: number;
  cancels: number;
  marketable: number;
  /** units traded */
  filledQuantity: number;
  restingAtEnd: number;
}

const MID = 10_000;

export function benchMatching(options: BenchMatchingOptions): BenchMatchingResult {
  const now = options.now ?? (() => performance.now());
  return (options.through ?? 'book') === 'book' ? benchBook(options, now) : benchExchange(options, now);
}

interface Mix {
  kind: 0 | 1 | 2; // add passive, cancel, marketable
  side: Side;
  offset: number;
  quantity: number;
}

/** Resting orders the workload keeps the book near: a cancel below it becomes an add. */
const TARGET_RESTING = 5_000;

/**
 * 45% passive adds, 30% cancels, 25% marketable (crossing, immediate-or-cancel) orders, with
 * cancels turned into adds while the book holds fewer than TARGET_RESTING orders: a steady
 * book of a few thousand orders over ~100 price levels.
 */
function nextOp(random: RandomSource, mix: Mix, resting: number): void {
  const r = random();
  mix.kind = r < 0.45 ? 0 : r < 0.75 ? (resting < TARGET_RESTING ? 0 : 1) : 2;
  mix.side = random() < 0.5 ? 'buy' : 'sell';
  mix.offset = Math.floor(random() * 50);
  mix.quantity = 1 + Math.floor(random() * 20);
}

function benchBook(options: BenchMatchingOptions, now: () => number): BenchMatchingResult {
  const random = mulberry32(options.seed);
  const book = new OrderBook('bench');
  let filled = 0;
  let live = 0;
  const listener: MatchListener = {
    onFill: (_taker, maker, quantity) => {
      filled += quantity;
      if (maker.remainingQuantity === 0) live--;
    },
    onSelfTradePrevented: () => {
      live--;
    },
  };
  const resting: Order[] = [];
  const mix: Mix = { kind: 0, side: 'buy', offset: 0, quantity: 1 };
  let adds = 0;
  let cancels = 0;
  let marketable = 0;
  const started = now();
  for (let i = 0; i < options.operations; i++) {
    nextOp(random, mix, live);
    if (mix.kind === 1) {
      // cancel a random resting order (dropping the ones that have filled meanwhile)
      while (resting.length > 0) {
        const at = Math.floor(random() * resting.length);
        const order = resting[at] as Order;
        resting[at] = resting[resting.length - 1] as Order;
        resting.pop();
        if (order.level !== null) {
          book.cancel(order);
          live--;
          break;
        }
      }
      cancels++;
      continue;
    }
    const crossing = mix.kind === 2;
    const price = mix.side === 'buy' ? (crossing ? MID + mix.offset : MID - 1 - mix.offset) : crossing ? MID - mix.offset : MID + 1 + mix.offset;
    const user = (i & 7).toString();
    const order = new Order('', i, user, 'bench', mix.side, 'limit', crossing ? 'ioc' : 'gtc', price, mix.quantity, null, 0);
    if (crossing) {
      marketable++;
      book.match(order, listener);
    } else {
      adds++;
      book.rest(order);
      resting.push(order);
      live++;
    }
  }
  const seconds = (now() - started) / 1000;
  return result('book', options.operations, seconds, adds, cancels, marketable, filled, book);
}

function benchExchange(options: BenchMatchingOptions, now: () => number): BenchMatchingResult {
  const random = mulberry32(options.seed);
  const commodity: Commodity = { ...(DEFAULT_COMMODITIES[0] as Commodity), symbol: 'bench', tickSize: 0.01, referencePrice: MID / 100 };
  const exchange = new Exchange({ clock: () => 0, commodities: [commodity], volatility: false });
  const resting: OrderState[] = [];
  const mix: Mix = { kind: 0, side: 'buy', offset: 0, quantity: 1 };
  const users = Array.from({ length: 8 }, (_, i) => `~bench-${i}`);
  let adds = 0;
  let cancels = 0;
  let marketable = 0;
  const started = now();
  for (let i = 0; i < options.operations; i++) {
    nextOp(random, mix, exchange.openOrderCount());
    if (mix.kind === 1) {
      while (resting.length > 0) {
        const at = Math.floor(random() * resting.length);
        const order = resting[at] as OrderState;
        resting[at] = resting[resting.length - 1] as OrderState;
        resting.pop();
        if (order.remainingQuantity > 0) {
          exchange.cancelOrder(order.userId, order.id, 0);
          break;
        }
      }
      cancels++;
      continue;
    }
    const crossing = mix.kind === 2;
    const price = mix.side === 'buy' ? (crossing ? MID + mix.offset : MID - 1 - mix.offset) : crossing ? MID - mix.offset : MID + 1 + mix.offset;
    const outcome = exchange.place(
      users[i & 7] as string,
      { commodity: 'bench', side: mix.side, type: 'limit', quantity: mix.quantity, priceTicks: price, timeInForce: crossing ? 'ioc' : 'gtc', clientOrderId: null },
      0,
    );
    if (crossing) marketable++;
    else adds++;
    const order = outcome.order;
    if (order !== null && order.remainingQuantity > 0) resting.push(order);
  }
  const seconds = (now() - started) / 1000;
  const market = exchange.market('bench');
  const filled = market === undefined ? 0 : market.volume;
  return result('exchange', options.operations, seconds, adds, cancels, marketable, filled, (market as { book: OrderBook }).book);
}

function result(
  through: 'book' | 'exchange',
  operations: number,
  seconds: number,
  adds: number,
  cancels: number,
  marketable: number,
  filledQuantity: number,
  book: OrderBook,
): BenchMatchingResult {
  let restingAtEnd = 0;
  for (const side of [book.bids, book.asks]) for (const level of side.fromBest()) restingAtEnd += level.orderCount;
  return {
    through,
    operations,
    seconds,
    opsPerSecond: seconds > 0 ? Math.round(operations / seconds) : Infinity,
    adds,
    cancels,
    marketable,
    filledQuantity,
    restingAtEnd,
  };
}
