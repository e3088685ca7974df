/**
 * A gateway's subscriptions to rooms' bus channels, refcounted by local sockets: the first socket
 * to join a room subscribes this node, the last to leave unsubscribes it. A room's channel is its
 * stream's sharded channel (SSUBSCRIBE: on a Redis Cluster, on the shard that owns the stream). A
 * pub/sub connection of its own; it is subscribed again after a reconnect (on a cluster, on the
 * master that took over a failed one's slots), and `onResubscribed` fires once it is (messages
 * published while it was away are missed: the StreamSequencer re-checks its streams).
 *
 * Joins and leaves of one room may interleave while a SUBSCRIBE is in flight; a per-room loop
 * brings Redis to the wanted state (subscribed iff count > 0) one command at a time, retrying a
 * subscription that failed (Redis down) until it holds or is no longer wanted. An unsubscription is
 * not retried: a subscription left behind only brings messages of streams this node no longer
 * follows (ignored), and goes with the connection; wanted again, it is made again.
 */
import type { Logger } from 'pino';
import { roomOfStream } from '@qx/protocol';
import { busKeys, parseChannelMessage, streamOfChannel, type BusMessage } from '../shared/bus-message.js';
import { openRedis, reconnectDelay, type RedisConnection, type RedisSource } from '../shared/redis-connection.js';

export interface RoomSubscriptionsOptions {
  redis: RedisSource;
  logger: Logger;
  /** every well-formed message of a subscribed room */
  onMessage: (msg: BusMessage) => void;
  /**
   * The connection came back and every room is subscribed again: re-check for missed events (of
   * `rooms`; undefined: of every room).
   */
  onResubscribed?: (rooms: string[] | undefined) => void;
}

interface RoomState {
  count: number;
  subscribed: boolean;
  busy: boolean;
  waiters: (() => void)[];
}

export class RoomSubscriptions {
  private readonly rooms = new Map<string, RoomState>();
  private readonly listener = (message: string, channel: string) => this.receive(message, channel);
  private closed = false;
  /** messages that were not ours or not well-formed */
  malformed = 0;

  private constructor(
    private readonly conn: RedisConnection,
    private readonly opts: RoomSubscriptionsOptions,
  ) {
    conn.on('reconnected', (channels) => {
      if (this.closed) return;
      const missed = channels === undefined ? undefined : new Set(channels);
      const rooms = missed === undefined ? undefined : [...this.rooms.keys()].filter((room) => missed.has(busKeys.roomChannel(room)));
      this.opts.logger.info({ rooms: rooms?.length ?? this.rooms.size }, 'bus subscriber reconnected');
      // rooms whose SUBSCRIBE was lost with the connection are retried; report once they all hold
      const settling = [...this.rooms.values()]
        .filter((s) => s.busy || s.subscribed !== s.count > 0)
        .map((s) => new Promise<void>((resolve) => s.waiters.push(resolve)));
      for (const room of this.rooms.keys()) this.reconcile(room);
      void Promise.all(settling).then(() => {
        if (!this.closed) this.opts.onResubscribed?.(rooms);
      });
    });
  }

  static async open(opts: RoomSubscriptionsOptions): Promise<RoomSubscriptions> {
    const conn = await openRedis(opts.redis, opts.logger, 'qx-rooms', { duplicate: true });
    return new RoomSubscriptions(conn, opts);
  }

  /** One more local socket in `room`; resolves once this node is subscribed to it (or left it again). */
  join(room: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error('room subscriptions closed'));
    let state = this.rooms.get(room);
    if (!state) {
      state = { count: 0, subscribed: false, busy: false, waiters: [] };
      this.rooms.set(room, state);
    }
    state.count++;
    if (state.subscribed && !state.busy) return Promise.resolve();
    const settled = new Promise<void>((resolve) => state.waiters.push(resolve));
    this.reconcile(room);
    return settled;
  }

  /** One local socket fewer in `room`; the last one out unsubscribes (in the background). */
  leave(room: string): void {
    const state = this.rooms.get(room);
    if (!state || state.count === 0) return;
    state.count--;
    if (state.count === 0) this.reconcile(room);
  }

  /** local sockets counted in `room` */
  count(room: string): number {
    return this.rooms.get(room)?.count ?? 0;
  }

  /** rooms with local sockets */
  joined(): string[] {
    return [...this.rooms].filter(([, s]) => s.count > 0).map(([room]) => room);
  }

  /** whether this node is subscribed to `room` right now */
  isSubscribed(room: string): boolean {
    return this.rooms.get(room)?.subscribed ?? false;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const state of this.rooms.values()) for (const w of state.waiters.splice(0)) w();
    this.rooms.clear();
    await this.conn.release();
  }

  private reconcile(room: string): void {
    const state = this.rooms.get(room);
    if (!state || state.busy || this.closed) return;
    state.busy = true;
    void this.drive(room, state);
  }

  private async drive(room: string, state: RoomState): Promise<void> {
    const channel = busKeys.roomChannel(room);
    let failures = 0;
    while (!this.closed && state.subscribed !== state.count > 0) {
      const want = state.count > 0;
      if (!want) {
        // whatever Redis answers: a subscription left behind brings only messages nobody follows
        state.subscribed = false;
        await this.conn.sUnsubscribe(channel, this.listener).catch((err: Error) => this.opts.logger.debug({ room, err: err.message }, 'unsubscribe failed'));
        continue;
      }
      try {
        await this.conn.sSubscribe(channel, this.listener);
        state.subscribed = true;
        failures = 0;
      } catch (err) {
        if (this.closed) break;
        // a command lost with the connection; node-redis resubscribes only what had succeeded
        if (failures++ === 0) this.opts.logger.warn({ room, err: (err as Error).message }, 'subscribe failed; retrying');
        await new Promise((r) => setTimeout(r, reconnectDelay(failures)));
      }
    }
    state.busy = false;
    if (this.closed) return;
    for (const w of state.waiters.splice(0)) w();
    if (state.count === 0 && !state.subscribed) this.rooms.delete(room);
  }

  private receive(message: string, channel: string): void {
    const stream = streamOfChannel(channel);
    const msg = stream === null ? null : parseChannelMessage(message);
    if (!msg || msg.stream !== stream || msg.room !== roomOfStream(stream)) {
      if (this.malformed++ === 0) this.opts.logger.warn({ channel }, 'malformed bus message dropped');
      return;
    }
    try {
      this.opts.onMessage(msg);
    } catch (err) {
      this.opts.logger.error({ err, room: msg.room, stream: msg.stream, seq: msg.seq }, 'bus message handler failed');
    }
  }
}
