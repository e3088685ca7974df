/**
 * Cross-node control messages: a node that decides something about a user (disconnect them, their
 * roles changed) tells every node, and each acts on its own sockets. One pub/sub channel; the
 * sender acts at once on its own sockets (so it works while Redis is away) and ignores its own
 * message when it comes back. The channel is sharded (SSUBSCRIBE/SPUBLISH; on a Redis Cluster one
 * shard carries it). Incoming messages are checked against their schema; anything else
 * is dropped and counted.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import { userIdSchema } from '@qx/protocol';
import { openRedis, type RedisConnection, type RedisSource } from '../shared/redis-connection.js';

export const CONTROL_CHANNEL = 'qx:{control}';

export const controlMessageSchema = z.discriminatedUnion('type', [
  /** close every socket of the user, with this error code (e.g. MAX_CONNECTIONS, TOKEN_REVOKED) */
  z.strictObject({ type: z.literal('disconnect-user'), userId: userIdSchema, code: z.string().min(1).max(64), message: z.string().max(256).optional() }),
  /** the user's roles changed: rooms they may no longer follow are left */
  z.strictObject({ type: z.literal('roles-changed'), userId: userIdSchema, roles: z.array(z.string().max(64)).max(64) }),
]);
export type ControlMessage = z.infer<typeof controlMessageSchema>;

const wireSchema = z.strictObject({ from: z.string().min(1).max(128), message: controlMessageSchema });

export interface ControlChannelOptions {
  redis: RedisSource;
  logger: Logger;
  nodeId: string;
  /** acts on this node's sockets (called for messages of every node, this one's included, once each) */
  onMessage: (message: ControlMessage, from: string) => void;
}

export class ControlChannel {
  private closed = false;
  /** messages dropped as malformed */
  rejected = 0;

  private constructor(
    private readonly pub: RedisConnection,
    private readonly sub: RedisConnection,
    private readonly opts: ControlChannelOptions,
  ) {}

  static async open(opts: ControlChannelOptions): Promise<ControlChannel> {
    const pub = await openRedis(opts.redis, opts.logger, 'qx-control');
    const sub = await openRedis(opts.redis, opts.logger, 'qx-control-sub', { duplicate: true });
    const channel = new ControlChannel(pub, sub, opts);
    await sub.sSubscribe(CONTROL_CHANNEL, (text) => channel.receive(text));
    return channel;
  }

  /**
   * Acts on `message` here, then tells the other nodes. Resolves false when Redis could not take
   * it (logged): the other nodes then did not hear of it.
   */
  async send(message: ControlMessage): Promise<boolean> {
    const parsed = controlMessageSchema.parse(message);
    this.dispatch(parsed, this.opts.nodeId);
    if (this.closed) return false;
    try {
      await this.pub.commands.sPublish(CONTROL_CHANNEL, JSON.stringify({ from: this.opts.nodeId, message: parsed }));
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

  private receive(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    const parsed = wireSchema.safeParse(value);
    if (!parsed.success) {
      if (this.rejected++ === 0) this.opts.logger.warn('malformed control message dropped');
      return;
    }
    if (parsed.data.from === this.opts.nodeId) return;
    this.dispatch(parsed.data.message, parsed.data.from);
  }

  private dispatch(message: ControlMessage, from: string): void {
    try {
      this.opts.onMessage(message, from);
    } catch (err) {
      this.opts.logger.error({ err, type: message.type }, 'control message handler failed');
    }
  }
}
