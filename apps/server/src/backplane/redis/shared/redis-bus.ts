/**
 * The bus and the recent history, in Redis (one node or a Redis Cluster). After the store has
 * committed a batch, `publish` runs one Lua script per stream of the batch (atomic, as
 * Centrifugo's Redis engine does it; every key and the channel of a stream share its hash tag, so
 * on a cluster each script runs on the stream's shard): each event of a durable stream (private
 * events, system alerts, the tape) goes into its stream's history — a Redis Stream whose entry
 * ids are `0-<seq>`, trimmed to MAXLEN ~ N and expiring after a TTL — and out on the stream's
 * sharded channel (SPUBLISH); each market update replaces its stream's latest entry (the snapshot
 * a new subscriber gets on any gateway) and goes out on its channel, without history; each book
 * delta goes out on its channel and leaves the book after it as the stream's latest state (where
 * a gateway that missed a delta starts again). Streams are independent: one stream's append and
 * publish are atomic, and a batch's streams are published side by side (no order across streams).
 *
 * Each stream has an epoch: a random id kept beside its keys (set if absent, with the history's
 * TTL). A Redis that lost the stream's keys (a restart without persistence) gives it a new one on
 * the next publish, so a gateway can tell that the history from before is gone — and `history()`
 * says `complete: false` whenever it cannot vouch for a range, after which the caller reads the
 * store. A failover to a replica keeps the epoch but may lose the last writes the replica had not
 * received: a seq missing from the history reads as a hole, so the range is not vouched for either.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { BOOK_DELTA, isStateStream } from '@qx/protocol';
import { busKeys, encodeHeader, parseEntry, type BusEvent, type BusMessage } from './bus-message.js';
import { LuaScript, openRedis, type RedisConnection, type RedisSource } from './redis-connection.js';

/**
 * One stream's events. KEYS: the stream's epoch, its history (durable) or latest (market, book).
 * ARGV: candidate epoch, maxlen, ttl seconds, channel, kind (h|m|b), then per event: seq, header,
 * envelope, state. Returns {epoch, status...}: a added, d duplicate (already in history: not
 * published again), l late (below the history's top but not in it: published, not kept), m market,
 * b book.
 */
const PUBLISH = new LuaScript(`
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
end
local maxlen, ttl, channel, kind = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
redis.call('EXPIRE', KEYS[1], ttl)
local key = KEYS[2]
local out = {epoch}
for a = 6, #ARGV, 4 do
  local seq, header, envelope, state = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local entry = header .. '\\n' .. envelope
  local message = epoch .. '\\n' .. entry
  if kind == 'm' then
    redis.call('SET', key, entry)
    redis.call('SPUBLISH', channel, message)
    out[#out + 1] = 'm'
  elseif kind == 'b' then
    redis.call('SET', key, state)
    redis.call('SPUBLISH', channel, message)
    out[#out + 1] = 'b'
  else
    local id = '0-' .. seq
    local top = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
    local topSeq = 0
    if top[1] then topSeq = tonumber(string.match(top[1][1], '^0%-(%d+)$')) or 0 end
    if tonumber(seq) > topSeq then
      redis.call('XADD', key, 'MAXLEN', '~', maxlen, id, 'd', entry)
      redis.call('EXPIRE', key, ttl)
      redis.call('SPUBLISH', channel, message)
      out[#out + 1] = 'a'
    elseif #redis.call('XRANGE', key, id, id) > 0 then
      out[#out + 1] = 'd'
    else
      redis.call('SPUBLISH', channel, message)
      out[#out + 1] = 'l'
    end
  end
end
return out
`);

/** KEYS: the stream's epoch, its history. ARGV: first id wanted, count. Returns {epoch|'', entries, top id|''}. */
const HISTORY = new LuaScript(`
local epoch = redis.call('GET', KEYS[1]) or ''
local entries = redis.call('XRANGE', KEYS[2], ARGV[1], '+', 'COUNT', ARGV[2])
local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local topId = ''
if top[1] then topId = top[1][1] end
return {epoch, entries, topId}
`);

/** streams whose epoch this bus remembers (to tell when one changes), newest kept */
const EPOCHS_REMEMBERED = 100_000;

export type PublishStatus = 'added' | 'duplicate' | 'late' | 'market' | 'book';
const STATUS: Record<string, PublishStatus> = { a: 'added', d: 'duplicate', l: 'late', m: 'market', b: 'book' };

export interface PublishResult {
  /** the epoch of the first event's stream (each stream has its own) */
  epoch: string;
  /** one per event, in order */
  statuses: PublishStatus[];
}

export interface HistoryResult {
  /** the stream's epoch now ('' when Redis holds none: it lost the stream's keys and nothing was published since) */
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
  /** a stream's epoch is not the one seen before: Redis lost its keys (its history from before is gone) */
  'epoch-changed': [epoch: string, previous: string, stream: string];
  /** the connection was lost and is back (a Redis Cluster: every shard serves again) */
  reconnected: [];
}

type Kind = 'h' | 'm' | 'b';

/** Some streams of a batch could not be published (their shard is away); the others were. */
export class PartialPublishError extends Error {
  constructor(
    /** the streams whose events were published */
    readonly published: ReadonlySet<string>,
    options: { cause: unknown },
  ) {
    super(`some streams were not published: ${options.cause instanceof Error ? options.cause.message : String(options.cause)}`, options);
    this.name = 'PartialPublishError';
  }
}

export class RedisBus extends EventEmitter<RedisBusEvents> {
  private readonly epochs = new Map<string, string>();
  /** the stream of the last publish or history read (readEpoch's default) */
  private lastStream: string | null = null;
  private closed = false;

  private constructor(
    private readonly conn: RedisConnection,
    private readonly opts: RedisBusOptions,
  ) {
    super();
    conn.on('reconnected', this.onReconnected);
  }

  private readonly onReconnected = () => this.emit('reconnected');

  static async open(opts: RedisBusOptions): Promise<RedisBus> {
    if (!(opts.historyMaxLen >= 1) || !(opts.historyTtlSeconds >= 1)) throw new RangeError('historyMaxLen and historyTtlSeconds must be >= 1');
    const conn = await openRedis(opts.redis, opts.logger, 'qx-bus');
    return new RedisBus(conn, opts);
  }

  /** The epoch of `stream` last seen in a publish or history read ('' before any). */
  epochOf(stream: string): string {
    return this.epochs.get(stream) ?? '';
  }

  /**
   * Publishes a batch, one atomic script per stream (the streams side by side). Rejects when any
   * stream's script failed (Redis down, a failover under way) once every other has run — with a
   * PartialPublishError naming the streams that were published when some were. The events are in
   * the store, and publishing them again adds only what is missing (what a history already holds
   * is not sent again; a market update or book delta sent twice is dropped by the gateways by its
   * seq).
   */
  async publish(events: readonly BusEvent[]): Promise<PublishResult> {
    if (events.length === 0) return { epoch: '', statuses: [] };
    const groups = new Map<string, { kind: Kind; indexes: number[] }>();
    events.forEach((e, i) => {
      if (!Number.isSafeInteger(e.seq) || e.seq < 1) throw new RangeError(`bad seq ${e.seq} for stream ${e.stream}`);
      // state streams (market data, market status) keep their latest; book deltas their book; the rest a history
      const kind: Kind = isStateStream(e.stream) ? 'm' : e.event === BOOK_DELTA ? 'b' : 'h';
      const group = groups.get(e.stream);
      if (!group) groups.set(e.stream, { kind, indexes: [i] });
      else if (group.kind !== kind) throw new RangeError(`stream ${e.stream} mixes ${e.event} with other events`);
      else group.indexes.push(i);
    });
    const candidate = randomBytes(8).toString('hex');
    const statuses: PublishStatus[] = new Array<PublishStatus>(events.length);
    const epochs = new Map<string, string>();
    const runs = [...groups].map(async ([stream, { kind, indexes }]) => {
      const key = kind === 'h' ? busKeys.history(stream) : busKeys.latest(stream);
      const args = [candidate, String(this.opts.historyMaxLen), String(this.opts.historyTtlSeconds), busKeys.channel(stream), kind];
      for (const i of indexes) {
        const e = events[i] as BusEvent;
        args.push(String(e.seq), encodeHeader(e), e.envelope, e.state ?? '');
      }
      const reply = (await PUBLISH.run(this.conn, [busKeys.epoch(stream), key], args)) as string[];
      const epoch = String(reply[0]);
      epochs.set(stream, epoch);
      this.noteEpoch(stream, epoch);
      indexes.forEach((i, j) => (statuses[i] = STATUS[reply[j + 1] ?? ''] ?? 'added'));
    });
    const failed = (await Promise.allSettled(runs)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw epochs.size > 0 ? new PartialPublishError(new Set(epochs.keys()), { cause: failed.reason }) : failed.reason;
    return { epoch: epochs.get((events[0] as BusEvent).stream) ?? '', statuses };
  }

  /** Up to `limit` events of `stream` after `afterSeq`, from the history (see HistoryResult). */
  async history(stream: string, afterSeq: number, limit: number): Promise<HistoryResult> {
    if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) throw new RangeError(`bad afterSeq ${afterSeq}`);
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`bad limit ${limit}`);
    const keys = [busKeys.epoch(stream), busKeys.history(stream)];
    const reply = (await HISTORY.run(this.conn, keys, [`0-${afterSeq + 1}`, String(limit)])) as [string, [string, string[]][], string];
    const [epoch, entries, topId] = reply;
    this.lastStream = stream;
    if (epoch) this.noteEpoch(stream, epoch);
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

  /**
   * The latest event of each state stream asked for — market data and market status (all of them:
   * a scan, for tools and tests).
   */
  async marketLatest(streams?: readonly string[]): Promise<Map<string, BusMessage>> {
    const out = new Map<string, BusMessage>();
    const all = streams ?? [...(await this.scanLatest('market-')), ...(await this.scanLatest('status-'))];
    for (const [stream, text] of await this.latest(all, 'market-')) {
      const msg = parseEntry('', text);
      if (msg && msg.stream === stream) out.set(stream, msg);
    }
    return out;
  }

  /** The latest state of each book stream asked for (all of them: a scan), as the engine left it. */
  bookLatest(streams?: readonly string[]): Promise<Map<string, string>> {
    return this.latest(streams, 'book-');
  }

  /** Reads the current epoch of `stream` (default: the stream last published or read); '' when Redis holds none. */
  async readEpoch(stream: string | null = this.lastStream): Promise<string> {
    if (stream === null) return '';
    const epoch = (await this.conn.commands.get(busKeys.epoch(stream))) ?? '';
    if (epoch) this.noteEpoch(stream, epoch);
    return epoch;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.conn.off('reconnected', this.onReconnected);
    await this.conn.release();
  }

  /** Each stream's latest value (one GET per stream: on a cluster each on its own shard). */
  private async latest(streams: readonly string[] | undefined, prefix: string): Promise<Map<string, string>> {
    const wanted = streams ?? (await this.scanLatest(prefix));
    const values = await Promise.all(wanted.map((stream) => this.conn.commands.get(busKeys.latest(stream))));
    const out = new Map<string, string>();
    wanted.forEach((stream, i) => {
      const text = values[i];
      if (text) out.set(stream, text);
    });
    return out;
  }

  /** The streams named `<prefix>…` that have a latest value in Redis. */
  private async scanLatest(prefix: string): Promise<string[]> {
    return (await this.conn.scan(busKeys.latest(`${prefix}*`))).flatMap((key) => streamOfLatestKey(key) ?? []);
  }

  private noteEpoch(stream: string, epoch: string): void {
    this.lastStream = stream;
    const previous = this.epochs.get(stream);
    if (previous === epoch) return;
    this.epochs.delete(stream);
    this.epochs.set(stream, epoch);
    if (this.epochs.size > EPOCHS_REMEMBERED) this.epochs.delete(this.epochs.keys().next().value as string);
    if (previous !== undefined) {
      this.opts.logger.warn({ stream, epoch, previous }, "redis epoch changed: the stream's history was lost");
      this.emit('epoch-changed', epoch, previous, stream);
    }
  }
}

function streamOfLatestKey(key: string): string | null {
  const m = /^qx:\{(.+)\}:latest$/.exec(key);
  return m ? (m[1] as string) : null;
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
