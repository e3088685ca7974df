/**
 * Gateway → engine-leader RPC over Redis. A gateway pushes `{id, deadline, replyTo, command}` onto
 * one list and waits up to `timeoutMs` for the answer on its own reply channel (sharded pub/sub:
 * on a Redis Cluster, on the shard its node id hashes to); the engine leader
 * pops commands (BLPOP on a connection of its own, only while it leads), drops every command whose
 * deadline has passed, runs the rest and publishes each reply to the gateway that sent it.
 *
 * A gateway that times out answers 503 ENGINE_UNAVAILABLE (at once when the command could not even
 * be sent: the list's node is down in a Redis Cluster failover); the order must then never execute
 * later. So the deadline a command carries is `guardMs` earlier than the gateway's timeout —
 * room for the handler's run, the reply's way back and clock skew between nodes — and the handler
 * gets the deadline too, to check it once more right before it commits (a store that stalls
 * must not let an expired command through).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ClientClosedError, ClientOfflineError, ErrorReply } from 'redis';
import { z } from 'zod';
import { CANCEL_ALL_AFTER_MAX_MS, CANCEL_ON_DISCONNECT_SCOPES, clientOrderIdSchema, userIdSchema } from '@qx/protocol';
import { LuaScript, openRedis, reconnectDelay, systemClock, type Clock, type RedisClient, type RedisConnection, type RedisSource } from './redis-connection.js';
import { TRACEPARENT, replyOutcome, tracer, type TraceSpan } from '../../../tracing/order-tracing.js';

export const COMMAND_LIST = 'qx:engine:commands';
const LIST_TTL_MS = 60_000;
/** a blocked pop returns after this long with nothing (stop() wakes it at once with CLIENT UNBLOCK) */
const POP_TIMEOUT_S = 5;
export const replyChannel = (nodeId: string): string => `qx:engine:reply:{${nodeId}}`;

/** KEYS: the list. ARGV: the command, the list's TTL (ms). Appends, and lets an abandoned list expire. */
const PUSH = new LuaScript(`
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
`);

/** A Socket.IO session id (a connection), and a node's id. */
const connectionId = z.string().min(1).max(128);
const nodeId = z.string().min(1).max(128);

/** When an order passed each point of its way so far (PathTimes), carried to the engine. */
const timesSchema = z
  .strictObject({
    receivedAt: z.number().optional(),
    queuedAt: z.number().optional(),
    startedAt: z.number().optional(),
    committedAt: z.number().optional(),
    publishedAt: z.number().optional(),
    // the order's trace (W3C traceparent), while traces are exported
    trace: z.string().regex(TRACEPARENT).optional(),
  })
  .optional();

/**
 * What gateways ask of the engine. `body` is the REST body and `items` the publish API's events,
 * each checked by the gateway that took them and once more by the engine's handler.
 */
export const engineCommandSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('submit-order'), userId: userIdSchema, body: z.unknown(), times: timesSchema, origin: z.strictObject({ connection: connectionId }).optional() }),
  z.strictObject({ type: z.literal('cancel-order'), userId: userIdSchema, orderId: z.string().min(1).max(128), times: timesSchema }),
  z.strictObject({ type: z.literal('amend-order'), userId: userIdSchema, orderId: z.string().min(1).max(128), body: z.unknown(), times: timesSchema }),
  z.strictObject({ type: z.literal('publish'), items: z.array(z.unknown()).min(1).max(1000) }),
  z.strictObject({ type: z.literal('cancel-on-disconnect'), userId: userIdSchema, connection: connectionId, node: nodeId, scope: z.enum(CANCEL_ON_DISCONNECT_SCOPES) }),
  z.strictObject({ type: z.literal('connection-lost'), connection: connectionId }),
  z.strictObject({ type: z.literal('connection-restored'), connection: connectionId, node: nodeId }),
  z.strictObject({ type: z.literal('cancel-all-after'), userId: userIdSchema, timeoutMs: z.number().int().min(0).max(CANCEL_ALL_AFTER_MAX_MS) }),
  z.strictObject({ type: z.literal('trading-control'), userId: userIdSchema, enabled: z.boolean(), reason: z.string().min(1).max(256), by: z.string().min(1).max(256) }),
  z.strictObject({ type: z.literal('halt'), commodity: z.string().min(1).max(64), reason: z.string().min(1).max(256), durationMs: z.number().int().positive().nullable(), by: z.string().min(1).max(256) }),
  z.strictObject({ type: z.literal('reopen'), commodity: z.string().min(1).max(64), by: z.string().min(1).max(256) }),
  z.strictObject({ type: z.literal('cancel-all'), userId: userIdSchema, commodity: z.string().min(1).max(64).optional() }),
  z.strictObject({ type: z.literal('flatten'), userId: userIdSchema, commodity: z.string().min(1).max(64), clientOrderId: clientOrderIdSchema.optional() }),
  z.strictObject({ type: z.literal('positions'), userId: userIdSchema }),
  z.strictObject({ type: z.literal('book'), commodity: z.string().min(1).max(64), depth: z.number().int().min(1).max(100) }),
]);
export type EngineCommand = z.infer<typeof engineCommandSchema>;

const envelopeSchema = z.strictObject({
  id: z.string().min(1).max(64),
  deadline: z.number().int().nonnegative(),
  replyTo: z.string().min(1).max(256),
  command: engineCommandSchema,
});
type CommandEnvelope = z.infer<typeof envelopeSchema>;

const replySchema = z.union([
  z.strictObject({ id: z.string(), ok: z.literal(true), reply: z.unknown() }),
  z.strictObject({ id: z.string(), ok: z.literal(false), error: z.strictObject({ message: z.string(), code: z.string().optional() }) }),
]);

/** The engine's handler failed on a command (its message and code, when it gave one). */
export class EngineCommandError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'EngineCommandError';
  }
}

export interface CommandMeta {
  id: string;
  /** epoch ms: past it, the gateway has answered 503 — do not commit */
  deadline: number;
}

export type CommandHandler = (command: EngineCommand, meta: CommandMeta) => Promise<unknown>;

export interface CommandQueueOptions {
  redis: RedisSource;
  logger: Logger;
  /** this node; replies to its commands come on its own channel */
  nodeId: string;
  clock?: Clock;
  /** how much earlier than the gateway's timeout a command expires (default: min(500 ms, timeout / 4)) */
  guardMs?: number;
  /** commands the engine runs at once, handed over in queue order (default 1) */
  concurrency?: number;
}

export interface CommandQueueStats {
  sent: number;
  timeouts: number;
  served: number;
  /** dropped by the engine: their deadline had passed */
  expired: number;
  /** dropped by the engine: not a command */
  malformed: number;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class CommandQueue {
  private readonly clock: Clock;
  private readonly pending = new Map<string, Pending>();
  /** the connection BLPOP runs on (nothing else), and the plain client serving the list on it */
  private blocking: RedisConnection | null = null;
  private blockingClient: RedisClient | null = null;
  private blockingId: number | null = null;
  private serving: Promise<void> | null = null;
  private stopping = false;
  private closed = false;
  readonly stats: CommandQueueStats = { sent: 0, timeouts: 0, served: 0, expired: 0, malformed: 0 };

  private constructor(
    private readonly conn: RedisConnection,
    private readonly sub: RedisConnection,
    private readonly opts: CommandQueueOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  static async open(opts: CommandQueueOptions): Promise<CommandQueue> {
    const conn = await openRedis(opts.redis, opts.logger, 'qx-commands');
    const sub = await openRedis(opts.redis, opts.logger, 'qx-replies', { duplicate: true });
    const queue = new CommandQueue(conn, sub, opts);
    await sub.sSubscribe(replyChannel(opts.nodeId), (text) => queue.receiveReply(text));
    return queue;
  }

  /**
   * Gateway side: sends `command` to the engine leader and resolves with its reply, or 'timeout'
   * after `timeoutMs` (no leader, or it did not answer in time: the command will not run later).
   * Rejects with EngineCommandError when the engine's handler failed.
   */
  send(command: EngineCommand, opts: { timeoutMs: number }): Promise<unknown> {
    // the command's own shape (its body is the handler's to check, once, on the engine)
    const parsed = engineCommandSchema.parse(command);
    const { timeoutMs } = opts;
    if (!(timeoutMs >= 1)) return Promise.reject(new RangeError(`bad timeoutMs ${timeoutMs}`));
    if (this.closed) return Promise.resolve('timeout');
    const guard = this.opts.guardMs ?? Math.min(500, Math.floor(timeoutMs / 4));
    const envelope: CommandEnvelope = { id: randomUUID(), deadline: this.clock.now() + timeoutMs - guard, replyTo: replyChannel(this.opts.nodeId), command: parsed };
    this.stats.sent++;
    // a traced order: the engine's side of the hop is the child of this one
    const span = commandSpan(parsed, envelope.id, 'sent');
    const reply = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(envelope.id);
        this.stats.timeouts++;
        resolve('timeout');
      }, timeoutMs);
      this.pending.set(envelope.id, { resolve, reject, timer });
      // with no engine at all the list would grow for ever: it goes a minute after its newest command expired
      PUSH.run(this.conn, [COMMAND_LIST], [JSON.stringify(envelope), String(timeoutMs + LIST_TTL_MS)]).catch((err: Error) => {
        this.opts.logger.warn({ id: envelope.id, err: err.message }, 'engine command not queued');
        // never sent, or refused before it ran (the list's node is down, a Redis Cluster failing over): answer now
        if (notRun(err)) this.giveUp(envelope.id);
        // otherwise it may or may not be queued: wait the timeout out (a late run is refused by its deadline)
      });
    });
    return span ? ended(reply, span) : reply;
  }

  /** Answers 'timeout' to the command now. */
  private giveUp(id: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    this.stats.timeouts++;
    p.resolve('timeout');
  }

  /** Engine side: starts popping and running commands (call when elected). */
  serve(handler: CommandHandler): void {
    if (this.serving || this.closed) return;
    this.stopping = false;
    this.serving = this.loop(handler).finally(() => {
      this.serving = null;
    });
  }

  get isServing(): boolean {
    return this.serving !== null;
  }

  /** Engine side: stops taking commands (leadership lost); resolves once the running ones are done. */
  async stop(): Promise<void> {
    if (!this.serving) return;
    this.stopping = true;
    let woken = false;
    if (this.blockingId !== null && this.conn.isReady) {
      // wakes the BLPOP now rather than at its timeout (sent to the node the BLPOP waits on)
      const id = String(this.blockingId);
      const unblock = this.conn.clientFor(COMMAND_LIST).then((client) => client.sendCommand(['CLIENT', 'UNBLOCK', id])).then(() => true);
      woken = await Promise.race([unblock, new Promise<boolean>((r) => setTimeout(() => r(false), 1000).unref())]).catch(() => false);
    }
    if (!woken && this.blocking) {
      // Redis is away: the pending pop cannot have taken anything, and would wait for the reconnect
      this.blocking.destroy();
      this.blocking = null;
      this.blockingClient = null;
      this.blockingId = null;
    }
    await this.serving;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.stop();
    this.closed = true;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.resolve('timeout');
    }
    await this.blocking?.release();
    await this.sub.release();
    await this.conn.release();
  }

  private async loop(handler: CommandHandler): Promise<void> {
    const concurrency = Math.max(1, this.opts.concurrency ?? 1);
    const running = new Set<Promise<void>>();
    let failures = 0;
    while (!this.stopping && !this.closed) {
      if (running.size >= concurrency) {
        await Promise.race(running);
        continue;
      }
      let text: string | null;
      try {
        text = await this.pop();
        failures = 0;
      } catch (err) {
        if (this.stopping || this.closed) break;
        if (failures++ === 0) this.opts.logger.warn({ err: (err as Error).message }, 'engine command queue: redis unavailable; retrying');
        await this.pause(reconnectDelay(failures));
        continue;
      }
      if (text === null) continue;
      if (this.stopping || this.closed) {
        // popped just as leadership ended: back to the head of the queue for the next leader
        await this.conn.commands.lPush(COMMAND_LIST, text).catch(() => undefined);
        break;
      }
      const task = this.run(handler, text).finally(() => running.delete(task));
      running.add(task);
    }
    await Promise.allSettled(running);
  }

  /** Waits `ms`, or less: until the blocking connection is back (a failed-over Redis node serves again). */
  private pause(ms: number): Promise<void> {
    const conn = this.blocking;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        conn?.off('reconnected', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      conn?.once('reconnected', done);
    });
  }

  private async pop(): Promise<string | null> {
    this.blocking ??= await openRedis(this.conn, this.opts.logger, 'qx-commands-pop', { duplicate: true });
    // on a cluster, the connection to the list's master (another one after a failover)
    const client = await this.blocking.clientFor(COMMAND_LIST);
    if (client !== this.blockingClient) {
      this.blockingClient = client;
      this.blockingId = null;
      // a reconnect is a new connection, with a new id
      client.on('ready', () => {
        if (this.blockingClient === client) this.blockingId = null;
      });
    }
    if (this.blockingId === null) this.blockingId = await client.clientId();
    if (this.stopping) return null;
    const got = await client.blPop(COMMAND_LIST, POP_TIMEOUT_S);
    return got ? got.element : null;
  }

  private async run(handler: CommandHandler, text: string): Promise<void> {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    const parsed = envelopeSchema.safeParse(value);
    if (!parsed.success) {
      if (this.stats.malformed++ === 0) this.opts.logger.warn('malformed engine command dropped');
      return;
    }
    const { id, deadline, replyTo, command } = parsed.data;
    if (this.clock.now() >= deadline) {
      this.stats.expired++;
      this.opts.logger.info({ id, type: command.type, lateMs: this.clock.now() - deadline }, 'expired engine command dropped');
      return;
    }
    let reply: z.infer<typeof replySchema>;
    const span = commandSpan(command, id, 'received');
    try {
      reply = { id, ok: true, reply: (await handler(command, { id, deadline })) ?? null };
    } catch (err) {
      const e = err as { message?: unknown; code?: unknown };
      reply = { id, ok: false, error: { message: typeof e.message === 'string' ? e.message : 'engine command failed', ...(typeof e.code === 'string' ? { code: e.code } : {}) } };
    }
    span?.end(reply.ok ? replyOutcome(reply.reply) : { error: reply.error.code ?? 'INTERNAL' });
    this.stats.served++;
    try {
      await this.conn.commands.sPublish(replyTo, JSON.stringify(reply));
    } catch (err) {
      this.opts.logger.warn({ id, err: (err as Error).message }, 'engine reply not sent');
    }
  }

  private receiveReply(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return;
    }
    const parsed = replySchema.safeParse(value);
    if (!parsed.success) return;
    const p = this.pending.get(parsed.data.id);
    // a reply after the timeout finds nothing: the gateway has answered 503 already
    if (!p) return;
    this.pending.delete(parsed.data.id);
    clearTimeout(p.timer);
    if (parsed.data.ok) p.resolve(parsed.data.reply);
    else p.reject(new EngineCommandError(parsed.data.error.message, parsed.data.error.code));
  }
}

/** Whether a command certainly did not run: never written to Redis, or refused by a cluster that is down. */
function notRun(err: unknown): boolean {
  if (err instanceof ClientOfflineError || err instanceof ClientClosedError) return true;
  return err instanceof ErrorReply && /^(CLUSTERDOWN|TRYAGAIN) /.test(err.message);
}

/**
 * The span of a traced order's command on this side of the queue (null when traces are off or the
 * command carries no trace); the command's trace becomes this span, the parent of the next hop.
 */
function commandSpan(command: EngineCommand, messageId: string, side: 'sent' | 'received'): TraceSpan | null {
  if (!tracer || !('times' in command) || !command.times?.trace) return null;
  const traced = { type: command.type, userId: command.userId, orderId: 'orderId' in command ? command.orderId : undefined };
  const span = side === 'sent' ? tracer.commandSent(traced, messageId, command.times.trace) : tracer.commandReceived(traced, messageId, command.times.trace);
  command.times.trace = span.traceparent;
  return span;
}

/** `reply`, ending `span` when it settles: a timeout is the engine being unavailable. */
function ended(reply: Promise<unknown>, span: TraceSpan): Promise<unknown> {
  return reply.then(
    (value) => {
      span.end(value === 'timeout' ? { error: 'ENGINE_UNAVAILABLE' } : replyOutcome(value));
      return value;
    },
    (err: unknown) => {
      span.end({ error: err instanceof EngineCommandError && err.code ? err.code : 'INTERNAL' });
      throw err;
    },
  );
}
