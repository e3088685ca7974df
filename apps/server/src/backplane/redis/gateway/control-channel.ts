/**
 * Cross-node control messages: a node that decides something about a user (disconnect them, their
 * roles changed) tells every node, and each acts on its own sockets. The sender acts at once on
 * its own sockets (so it works while Redis is away) and ignores its own message when it comes back.
 *
 * Each message is appended to a capped Redis Stream (`qx:{control}:log`, MAXLEN ~ 10,000) and
 * published on one sharded pub/sub channel (SPUBLISH; the log and the channel share the hash tag
 * `{control}`, so on a Redis Cluster one shard carries both) with its entry id, in one script. Pub/sub drops what is sent
 * while a node's subscriber connection is down, so when it is back the node reads the log after
 * the last entry it saw and acts on what it missed; live messages that arrive meanwhile wait, and
 * an entry at or before the last one seen is never acted on again. A node starts after the log's
 * newest entry (it had no sockets before), and what it reads back is at most `maxCatchUpMs` old by
 * Redis's clock: a log that went back in time (Redis restarted empty, or from an old snapshot) is
 * read from its start, without acting on ancient messages. Incoming messages are checked against
 * their schema; anything else is dropped and counted.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import { controlMessageSchema, type ControlMessage } from '../../control-message.js';
import { LuaScript, openRedis, reconnectDelay, type RedisConnection, type RedisSource } from '../shared/redis-connection.js';

export { controlMessageSchema, type ControlMessage };

export const CONTROL_CHANNEL = 'qx:{control}';
export const CONTROL_LOG = 'qx:{control}:log';
const LOG_MAX_LEN = 10_000;
const READ_PAGE = 500;

const wireSchema = z.strictObject({ from: z.string().min(1).max(128), message: controlMessageSchema });

/** KEYS: log. ARGV: maxlen, channel, wire JSON. Appends the message and publishes it as `<id>\n<wire>`; returns the id. */
const SEND = new LuaScript(`
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'w', ARGV[3])
redis.call('SPUBLISH', ARGV[2], id .. '\\n' .. ARGV[3])
return id
`);

/** KEYS: log. Returns {server time in ms, newest entry id or ''}. */
const TOP = new LuaScript(`
local t = redis.call('TIME')
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local id = ''
if top[1] then id = top[1][1] end
return {tostring(t[1] * 1000 + math.floor(t[2] / 1000)), id}
`);

export interface ControlChannelOptions {
  redis: RedisSource;
  logger: Logger;
  nodeId: string;
  /** acts on this node's sockets (called for messages of every node, this one's included, once each) */
  onMessage: (message: ControlMessage, from: string) => void;
  /** missed messages older than this (by Redis's clock) are not acted on when read back (default 5 minutes) */
  maxCatchUpMs?: number;
}

/** A stream entry id `<ms>-<n>`, comparable. */
type EntryId = readonly [number, number];

function parseId(id: string): EntryId | null {
  const m = /^(\d+)-(\d+)$/.exec(id);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

function compareIds(a: EntryId, b: EntryId): number {
  return a[0] - b[0] || a[1] - b[1];
}

const ZERO: EntryId = [0, 0];

export class ControlChannel {
  private closed = false;
  /** the newest log entry this node has seen (acted on, or passed over as its own or too old) */
  private lastId: EntryId = ZERO;
  /** live messages held while the log is read back (null: none is being read) */
  private held: string[] | null = null;
  /** messages dropped as malformed */
  rejected = 0;
  /** messages acted on after being read back from the log (missed while the subscriber was away) */
  caughtUp = 0;

  private constructor(
    private readonly pub: RedisConnection,
    private readonly sub: RedisConnection,
    private readonly opts: ControlChannelOptions,
  ) {}

  static async open(opts: ControlChannelOptions): Promise<ControlChannel> {
    const pub = await openRedis(opts.redis, opts.logger, `qx-control-${opts.nodeId}`);
    const sub = await openRedis(opts.redis, opts.logger, `qx-control-sub-${opts.nodeId}`, { duplicate: true });
    const channel = new ControlChannel(pub, sub, opts);
    // subscribed first, then the log's newest entry: what is published after it is acted on
    channel.held = [];
    try {
      await sub.sSubscribe(CONTROL_CHANNEL, (text) => channel.receive(text));
      const [, top] = await channel.top();
      channel.lastId = parseId(top) ?? ZERO;
    } catch (err) {
      await channel.close();
      throw err;
    } finally {
      channel.release();
    }
    // back after a loss (resubscribed by then): what was published meanwhile is read from the log
    sub.on('reconnected', (channels) => {
      if (channels === undefined || channels.includes(CONTROL_CHANNEL)) void channel.catchUp();
    });
    return channel;
  }

  /**
   * Acts on `message` here, then tells the other nodes. Resolves false when Redis could not take
   * it (logged): the other nodes then did not hear of it. Rejects on a message the schema refuses.
   */
  async send(message: ControlMessage): Promise<boolean> {
    const parsed = controlMessageSchema.parse(message);
    this.dispatch(parsed, this.opts.nodeId);
    if (this.closed) return false;
    try {
      await SEND.run(this.pub, [CONTROL_LOG], [String(LOG_MAX_LEN), CONTROL_CHANNEL, JSON.stringify({ from: this.opts.nodeId, message: parsed })]);
      return true;
    } catch (err) {
      this.opts.logger.warn({ type: parsed.type, err: (err as Error).message }, 'control message not sent to the other nodes');
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.sub.release();
    await this.pub.release();
  }

  private top(): Promise<[number, string]> {
    return TOP.run(this.pub, [CONTROL_LOG], []).then((reply) => {
      const [now, id] = reply as [string, string];
      return [Number(now), id];
    });
  }

  private receive(text: string): void {
    if (this.held) this.held.push(text);
    else this.take(text);
  }

  /** A live message `<id>\n<wire>`: acted on unless seen already or this node's own. */
  private take(text: string): void {
    const nl = text.indexOf('\n');
    const id = nl > 0 ? parseId(text.slice(0, nl)) : null;
    const wire = id ? this.parse(text.slice(nl + 1)) : null;
    if (!id || !wire) {
      this.reject();
      return;
    }
    if (compareIds(id, this.lastId) <= 0) return;
    this.lastId = id;
    if (wire.from !== this.opts.nodeId) this.dispatch(wire.message, wire.from);
  }

  /**
   * The subscriber is back: reads the log after the last entry seen (from its start if the log went
   * back in time) and acts on what was missed, holding live messages until done. Retried until it
   * succeeds or the channel closes.
   */
  private async catchUp(): Promise<void> {
    if (this.held || this.closed) return;
    this.held = [];
    try {
      for (let attempt = 0; !this.closed; attempt++) {
        try {
          await this.readBack();
          return;
        } catch (err) {
          if (attempt === 0) this.opts.logger.warn({ err: (err as Error).message }, 'control log not read back; retrying');
          await new Promise((r) => setTimeout(r, reconnectDelay(attempt + 1)));
        }
      }
    } finally {
      this.release();
    }
  }

  private async readBack(): Promise<void> {
    const [now, top] = await this.top();
    const topId = parseId(top);
    if (!topId) {
      // an empty log (Redis lost it): whatever comes next is new
      this.lastId = ZERO;
      return;
    }
    // every entry after the last one seen; a log that went back in time is another log: all of it
    const wentBack = compareIds(topId, this.lastId) < 0;
    if (wentBack) this.opts.logger.warn('the control log went back in time (Redis restarted): read from its start');
    let after = wentBack ? ZERO : this.lastId;
    const oldest = now - (this.opts.maxCatchUpMs ?? 300_000);
    let caught = 0;
    for (;;) {
      const start = `(${after[0]}-${after[1]}`;
      const client = await this.pub.clientFor(CONTROL_LOG);
      const entries = await client.sendCommand<[string, string[]][]>(['XRANGE', CONTROL_LOG, start, '+', 'COUNT', String(READ_PAGE)]);
      for (const [rawId, fields] of entries) {
        const id = parseId(rawId);
        if (!id) continue;
        after = id;
        this.lastId = id;
        const i = fields.indexOf('w');
        const wire = i >= 0 && i % 2 === 0 ? this.parse(fields[i + 1] ?? '') : null;
        if (!wire) {
          this.reject();
          continue;
        }
        if (wire.from === this.opts.nodeId || id[0] < oldest) continue;
        caught++;
        this.dispatch(wire.message, wire.from);
      }
      if (entries.length < READ_PAGE) break;
    }
    this.caughtUp += caught;
    if (caught) this.opts.logger.info({ messages: caught }, 'control messages missed while the subscriber was away: acted on now');
  }

  /** Acts on the live messages held meanwhile, in order. */
  private release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const text of held) this.take(text);
  }

  private parse(text: string): z.infer<typeof wireSchema> | null {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return null;
    }
    const parsed = wireSchema.safeParse(value);
    return parsed.success ? parsed.data : null;
  }

  private reject(): void {
    if (this.rejected++ === 0) this.opts.logger.warn('malformed control message dropped');
  }

  private dispatch(message: ControlMessage, from: string): void {
    try {
      this.opts.onMessage(message, from);
    } catch (err) {
      this.opts.logger.error({ err, type: message.type }, 'control message handler failed');
    }
  }
}
