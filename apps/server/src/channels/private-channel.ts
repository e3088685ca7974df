/**
 * A private channel (trading, orders, compliance): one room per user, followed by its owner or
 * by a caller whose roles allow it. What the socket missed while away is replayed from the log.
 */
import { describeZodError, userIdPayloadSchema, type ClientEventName, type PrivateChannel, type ServerEventName } from '@qx/protocol';
import { mayFollow } from '../auth/roles.js';
import { failure, success, type Outcome } from '../realtime/outcome.js';
import type { Delivery } from '../realtime/delivery.js';
import type { QxSocket } from '../realtime/types.js';
import { subscriptionCount, type Channel } from './channel.js';

export interface PrivateChannelSpec {
  channel: PrivateChannel;
  room: (userId: string) => string;
  subscribe: { event: ClientEventName; confirm: ServerEventName; body: (userId: string, room: string) => object };
  unsubscribe: { event: ClientEventName; confirm: ServerEventName; body: (userId: string, room: string) => object };
}

export interface PrivateChannelDeps {
  delivery: Delivery;
  maxSubscriptionsPerSocket: number;
  replayLimit: number;
}

export function privateChannel(spec: PrivateChannelSpec, deps: PrivateChannelDeps): Channel {
  const prefix = spec.room('');

  function target(socket: QxSocket, payload: unknown): { ok: true; userId: string } | { ok: false; outcome: Outcome } {
    const parsed = userIdPayloadSchema.safeParse(payload);
    if (!parsed.success) {
      return { ok: false, outcome: failure('INVALID_PAYLOAD', `Expected a userId string (${describeZodError(parsed.error).message})`) };
    }
    const auth = socket.data.auth;
    if (!auth || !mayFollow(auth, spec.channel, parsed.data)) {
      return { ok: false, outcome: failure('FORBIDDEN', `Not allowed to follow ${spec.channel} of user ${parsed.data}`) };
    }
    return { ok: true, userId: parsed.data };
  }

  async function subscribe(socket: QxSocket, payload: unknown): Promise<Outcome> {
    const t = target(socket, payload);
    if (!t.ok) return t.outcome;
    const room = spec.room(t.userId);
    if (!socket.rooms.has(room)) {
      if (subscriptionCount(socket) + 1 > deps.maxSubscriptionsPerSocket) {
        return failure('TOO_MANY_SUBSCRIPTIONS', `At most ${deps.maxSubscriptionsPerSocket} subscriptions per socket`);
      }
      // from here on nothing of this stream may be missed: remember where it starts
      try {
        await deps.delivery.follow(socket, room, room);
      } catch {
        void socket.leave(room);
        return failure('SERVICE_UNAVAILABLE', 'The event log cannot be read; try again');
      }
    }
    return success(spec.subscribe.confirm, spec.subscribe.body(t.userId, room));
  }

  function unsubscribe(socket: QxSocket, payload: unknown): Outcome {
    const parsed = userIdPayloadSchema.safeParse(payload);
    if (!parsed.success) return failure('INVALID_PAYLOAD', `Expected a userId string (${describeZodError(parsed.error).message})`);
    const room = spec.room(parsed.data);
    void socket.leave(room);
    delete socket.data.written[room];
    delete socket.data.confirmed[room];
    return success(spec.unsubscribe.confirm, spec.unsubscribe.body(parsed.data, room));
  }

  return {
    name: spec.channel,
    handlers: { [spec.subscribe.event]: subscribe, [spec.unsubscribe.event]: unsubscribe },
    onRecovered(socket) {
      // after a dropped connection, replay from what the client provably received
      for (const room of socket.rooms) {
        if (!room.startsWith(prefix)) continue;
        deps.delivery.catchUp(socket, room, room, socket.data.confirmed[room] ?? socket.data.written[room], deps.replayLimit);
      }
    },
  };
}
