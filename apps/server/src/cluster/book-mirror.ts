/**
 * The order books in cluster mode: the engine leader holds them, the gateways stream them
 * (`subscribe-book`). The leader sends each commodity's top levels (BOOK_DEPTH a side) when they
 * changed, at most every `intervalMs`, on one pub/sub channel, and keeps the latest in a hash; a
 * gateway keeps the latest book of each commodity (read from the hash at start, then from the
 * channel), and its BookFeed computes snapshots, updates, seqs and checksums from it as in one
 * process. Books are state, not history: a missed message is superseded by the next one.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import { openRedis, type OpenedRedis, type Redis } from './redis-connection.js';

export const BOOK_CHANNEL = 'qx:book';
export const BOOK_LATEST = 'qx:book:latest';
/** the deepest book a socket may ask for (`subscribe-book` depth 1-20) */
export const BOOK_DEPTH = 20;

interface Level {
  price: number;
  quantity: number;
  orders: number;
}
export interface MirroredBook {
  bids: Level[];
  asks: Level[];
}

const level = z.strictObject({ price: z.number(), quantity: z.number(), orders: z.number() });
const bookSchema = z.strictObject({ commodity: z.string().min(1).max(64), bids: z.array(level).max(BOOK_DEPTH), asks: z.array(level).max(BOOK_DEPTH) });

/** The leader's side: publishes the books that changed, every `intervalMs`. */
export class BookPublisher {
  private readonly sent = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly opts: {
      redis: Redis;
      commodities: readonly string[];
      book: (commodity: string, depth: number) => MirroredBook | null;
      intervalMs: number;
      logger: Logger;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const multi = this.opts.redis.multi();
      const changed: [string, string][] = [];
      for (const commodity of this.opts.commodities) {
        const view = this.opts.book(commodity, BOOK_DEPTH);
        if (!view) continue;
        const text = JSON.stringify({ commodity, bids: view.bids, asks: view.asks });
        if (this.sent.get(commodity) === text) continue;
        changed.push([commodity, text]);
        multi.hSet(BOOK_LATEST, commodity, text).publish(BOOK_CHANNEL, text);
      }
      if (changed.length === 0) return;
      await multi.exec();
      for (const [commodity, text] of changed) this.sent.set(commodity, text);
    } catch (err) {
      this.opts.logger.debug({ err: (err as Error).message }, 'books not published (retried at the next tick)');
    } finally {
      this.busy = false;
    }
  }
}

/** A gateway's side: the latest book of each commodity. */
export class BookMirror {
  private readonly books = new Map<string, MirroredBook>();
  rejected = 0;

  private constructor(
    private readonly sub: OpenedRedis,
    private readonly logger: Logger,
  ) {}

  static async open(redis: Redis, logger: Logger): Promise<BookMirror> {
    const sub = await openRedis(redis, logger, 'qx-book-sub', { duplicate: true });
    const mirror = new BookMirror(sub, logger);
    await sub.client.subscribe(BOOK_CHANNEL, (text) => mirror.take(text));
    // what was published before this gateway listened (a message since then is newer: kept)
    const latest = await redis.hGetAll(BOOK_LATEST);
    for (const text of Object.values(latest)) mirror.take(text, false);
    return mirror;
  }

  /** The top `depth` levels a side (empty until the engine has sent the commodity's book). */
  book(commodity: string, depth: number): MirroredBook {
    const b = this.books.get(commodity);
    return { bids: b?.bids.slice(0, depth) ?? [], asks: b?.asks.slice(0, depth) ?? [] };
  }

  async close(): Promise<void> {
    await this.sub.release();
  }

  private take(text: string, overwrite = true): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    const parsed = bookSchema.safeParse(value);
    if (!parsed.success) {
      if (this.rejected++ === 0) this.logger.warn('malformed book message dropped');
      return;
    }
    if (!overwrite && this.books.has(parsed.data.commodity)) return;
    this.books.set(parsed.data.commodity, { bids: parsed.data.bids, asks: parsed.data.asks });
  }
}
