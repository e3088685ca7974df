/**
 * The bus and the recent history, in Redis. After the store has committed a batch, `publish` runs
 * one Lua script for the whole batch (atomic, as Centrifugo's Redis engine does it): each event of
 * a durable stream (private events, system alerts, the tape) goes into its stream's history — a
 * Redis Stream whose entry ids are `0-<seq>`, trimmed to MAXLEN ~ N and expiring after a TTL — and
 * out on its room's channel; each market update replaces its stream's entry in the latest-market
 * hash (the snapshot a new subscriber gets on any gateway) and goes out on its channel, without
 * history; each book delta goes out on its channel and leaves the book after it in the
 * latest-book hash (where a gateway that missed a delta starts again).
 *
 * The epoch is a random id kept at `qx:epoch` (set if absent). Redis that lost its data (a restart
 * without persistence) gets a new one on the next publish, so a gateway can tell that history from
 * before is gone — and `history()` says `complete: false` whenever it cannot vouch for a range,
 * after which the caller reads the store.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { BOOK_DELTA, isStateStream } from '@qx/protocol';
import { busKeys, encodeHeader, parseEntry, type BusEvent, type BusMessage } from './bus-message.js';
import { LuaScript, openRedis, type OpenedRedis, type Redis, type RedisSource } from './redis-connection.js';

/**
 * KEYS: epoch, market-latest hash, book-latest hash, then one history key per event.
 * ARGV: candidate epoch, maxlen, ttl seconds, then per event: channel, stream, seq, kind (h|m|b), header, envelope, state.
 * Returns {epoch, status...}: a added, d duplicate (already in history: not published again),
 * l late (below the history's top but not in it: published, not kept), m market, b book.
 */
const PUBLISH = new LuaScript(`
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
end
local maxlen, ttl = ARGV[2], ARGV[3]
local out = {epoch}
local n = (#ARGV - 3) / 7
for i = 0, n - 1 do
  local a = 4 + i * 7
  local channel, stream, seq, kind, header, envelope, state = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], ARGV[a + 6]
  local entry = header .. '\\n' .. envelope
  local message = epoch .. '\\n' .. entry
  if kind == 'm' then
    redis.call('HSET', KEYS[2], stream, entry)
    redis.call('PUBLISH', channel, message)
    out[#out + 1] = 'm'
  elseif kind == 'b' then
    redis.call('HSET', KEYS[3], stream, state)
    redis.call('PUBLISH', channel, message)
    out[#out + 1] = 'b'
  else
    local key = KEYS[4 + i]
    local id = '0-' .. seq
    local top = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
    local topSeq = 0
    if top[1] then topSeq = tonumber(string.match(top[1][1], '^0%-(%d+)$')) or 0 end
    if tonumber(seq) > topSeq then
      redis.call('XADD', key, 'MAXLEN', '~', maxlen, id, 'd', entry)
      redis.call('EXPIRE', key, ttl)
      redis.call('PUBLISH', channel, message)
      out[#out + 1] = 'a'
    elseif #redis.call('XRANGE', key, id, id) > 0 then
      out[#out + 1] = 'd'
    else
      redis.call('PUBLISH', channel, message)
      out[#out + 1] = 'l'
    end
  end
end
return out
`);

/** KEYS: epoch, history. ARGV: first id wanted, count. Returns {epoch|'', entries, top id|'', first id|''}. */
const HISTORY = new LuaScript(`
local epoch = redis.call('GET', KEYS[1]) or ''
local entries = redis.call('XRANGE', KEYS[2], ARGV[1], '+', 'COUNT', ARGV[2])
local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local topId = ''
if top[1] then topId = top[1][1] end
return {epoch, entries, topId}
`);

export type PublishStatus = 'added' | 'duplicate' | 'late' | 'market' | 'book';
const STATUS: Record<string, PublishStatus> = { a: 'added', d: 'duplicate', l: 'late', m: 'market', b: 'book' };

export interface PublishResult {
  epoch: string;
  /** one per event, in order */
  statuses: PublishStatus[];
}

export interface HistoryResult {
  /** the Redis epoch now ('' when Redis holds none: it lost its data and nothing was published since) */
  epoch: string;
  /** events afterSeq+1, afterSeq+2, … with no gap, at most `limit` */
  events: BusMessage[];
  /**
   * true when `events` is every event of the stream after afterSeq that the history knows of (or
   * `limit` of them); false when the history does not reach back to afterSeq+1, has a hole, or
   * is gone: then read the rest from the store, after the last event returned.
   */
  complete: boolean;
}

export interface RedisBusOptions {
  redis: RedisSource;
  logger: Logger;
  /** entries kept per stream (approximate: MAXLEN ~) */
  historyMaxLen: number;
  /** a stream's history expires this long after its last event */
  historyTtlSeconds: number;
}

export interface RedisBusEvents {
  /** Redis's epoch is not the one seen before: it lost its data (history from before is gone) */
  'epoch-changed': [epoch: string, previous: string];
}

export class RedisBus extends EventEmitter<RedisBusEvents> {
  private lastEpoch = '';
  private closed = false;

  private constructor(
    private readonly conn: OpenedRedis,
    private readonly opts: RedisBusOptions,
  ) {
    super();
  }

  static async open(opts: RedisBusOptions): Promise<RedisBus> {
    if (!(opts.historyMaxLen >= 1) || !(opts.historyTtlSeconds >= 1)) throw new RangeError('historyMaxLen and historyTtlSeconds must be >= 1');
    const conn = await openRedis(opts.redis, opts.logger, 'qx-bus');
    return new RedisBus(conn, opts);
  }

  private get client(): Redis {
    return this.conn.client;
  }

  /** The epoch last seen in a publish or history read ('' before any). */
  get epoch(): string {
    return this.lastEpoch;
  }

  /**
   * Publishes a batch in one atomic script. Rejects when Redis cannot be reached (the events are
   * in the store: gateways find them by their seq gap or by their re-check after a reconnect).
   */
  async publish(events: readonly BusEvent[]): Promise<PublishResult> {
    if (events.length === 0) return { epoch: this.lastEpoch, statuses: [] };
    const keys: string[] = [busKeys.epoch, busKeys.marketLatest, busKeys.bookLatest];
    const args = [randomBytes(8).toString('hex'), String(this.opts.historyMaxLen), String(this.opts.historyTtlSeconds)];
    for (const e of events) {
      if (!Number.isSafeInteger(e.seq) || e.seq < 1) throw new RangeError(`bad seq ${e.seq} for stream ${e.stream}`);
      // state streams (market data, market status) keep their latest; book deltas their book; the rest a history
      const kind = isStateStream(e.stream) ? 'm' : e.event === BOOK_DELTA ? 'b' : 'h';
      keys.push(busKeys.history(e.stream));
      args.push(busKeys.roomChannel(e.room), e.stream, String(e.seq), kind, encodeHeader(e), e.envelope, e.state ?? '');
    }
    const reply = (await PUBLISH.run(this.client, keys, args)) as string[];
    const epoch = String(reply[0]);
    this.noteEpoch(epoch);
    return { epoch, statuses: reply.slice(1).map((s) => STATUS[s] ?? 'added') };
  }

  /** Up to `limit` events of `stream` after `afterSeq`, from the history (see HistoryResult). */
  async history(stream: string, afterSeq: number, limit: number): Promise<HistoryResult> {
    if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) throw new RangeError(`bad afterSeq ${afterSeq}`);
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`bad limit ${limit}`);
    const reply = (await HISTORY.run(this.client, [busKeys.epoch, busKeys.history(stream)], [`0-${afterSeq + 1}`, String(limit)])) as [
      string,
      [string, string[]][],
      string,
    ];
    const [epoch, entries, topId] = reply;
    if (epoch) this.noteEpoch(epoch);
    const events: BusMessage[] = [];
    let expected = afterSeq + 1;
    let hole = false;
    for (const [id, fields] of entries) {
      const msg = entryMessage(stream, id, fields);
      if (!msg || msg.seq !== expected) {
        hole = true;
        break;
      }
      events.push(msg);
      expected++;
    }
    const topSeq = idSeq(topId);
    const complete = epoch !== '' && !hole && (events.length === limit || (topSeq !== null && topSeq >= afterSeq));
    return { epoch, events, complete };
  }

  /** The latest market-update of each market stream (all of them, or those asked for). */
  async marketLatest(streams?: readonly string[]): Promise<Map<string, BusMessage>> {
    const out = new Map<string, BusMessage>();
    const add = (stream: string, text: string | null | undefined) => {
      if (!text) return;
      const msg = parseEntry('', text);
      if (msg && msg.stream === stream) out.set(stream, msg);
    };
    if (streams === undefined) {
      const all = await this.client.hGetAll(busKeys.marketLatest);
      for (const [stream, text] of Object.entries(all)) add(stream, text);
    } else if (streams.length) {
      const values = await this.client.hmGet(busKeys.marketLatest, [...streams]);
      streams.forEach((stream, i) => add(stream, values[i]));
    }
    return out;
  }

  /** The latest state of each book stream (all of them, or those asked for), as the engine left it. */
  async bookLatest(streams?: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (streams === undefined) {
      for (const [stream, text] of Object.entries(await this.client.hGetAll(busKeys.bookLatest))) out.set(stream, text);
    } else if (streams.length) {
      const values = await this.client.hmGet(busKeys.bookLatest, [...streams]);
      streams.forEach((stream, i) => {
        const text = values[i];
        if (text) out.set(stream, text);
      });
    }
    return out;
  }

  /** Reads the current epoch ('' when Redis holds none). */
  async readEpoch(): Promise<string> {
    const epoch = (await this.client.get(busKeys.epoch)) ?? '';
    if (epoch) this.noteEpoch(epoch);
    return epoch;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.conn.release();
  }

  private noteEpoch(epoch: string): void {
    const previous = this.lastEpoch;
    if (epoch === previous) return;
    this.lastEpoch = epoch;
    if (previous !== '') {
      this.opts.logger.warn({ epoch, previous }, 'redis epoch changed: its history was lost');
      this.emit('epoch-changed', epoch, previous);
    }
  }
}

function idSeq(id: string): number | null {
  const m = /^0-(\d+)$/.exec(id);
  return m ? Number(m[1]) : null;
}

function entryMessage(stream: string, id: string, fields: string[]): BusMessage | null {
  const seq = idSeq(id);
  const i = fields.indexOf('d');
  if (seq === null || i < 0 || i % 2 !== 0) return null;
  const msg = parseEntry('', fields[i + 1] ?? '');
  return msg && msg.seq === seq && msg.stream === stream ? msg : null;
}
