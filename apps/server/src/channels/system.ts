/**
 * System-wide: `system-alert` reaches every authenticated socket; `ping` answers `pong`; `resume`
 * (addition) replays what a client missed in the streams it follows, by sequence number.
 */
import {
  ClientEvent,
  ServerEvent,
  SYSTEM_STREAM,
  describeZodError,
  parsePrivateStream,
  resumePayloadSchema,
  rooms,
} from '@qx/protocol';
import { failure, success, type Outcome } from '../realtime/outcome.js';
import type { Delivery, ReplayResult } from '../realtime/delivery.js';
import type { QxSocket } from '../realtime/types.js';
import type { Channel } from './channel.js';

export interface SystemChannelDeps {
  delivery: Delivery;
  /** writes queued frames now, so a replay goes out before the `resumed` answer */
  flush: () => void;
  replayLimit: number;
  now: () => number;
}

export function systemChannel(deps: SystemChannelDeps): Channel {
  function ping(): Outcome {
    return success(ServerEvent.Pong, { timestamp: deps.now() });
  }

  async function resume(socket: QxSocket, payload: unknown): Promise<Outcome> {
    const parsed = resumePayloadSchema.safeParse(payload);
    if (!parsed.success) return failure('INVALID_PAYLOAD', `Expected {stream: lastSeq} (${describeZodError(parsed.error).message})`);
    const entries = Object.entries(parsed.data);
    for (const [stream] of entries) {
      if (stream !== SYSTEM_STREAM && !parsePrivateStream(stream)) return failure('INVALID_STREAM', `Unknown stream: ${stream}`, stream);
      const room = stream === SYSTEM_STREAM ? rooms.authenticated : stream;
      if (!socket.rooms.has(room)) return failure('FORBIDDEN', `Not subscribed to ${stream}`, stream);
    }
    // every replay is started before any is awaited: with an in-process store all are queued now
    const replays = entries.map(([stream, after]) => deps.delivery.replay(socket, stream, after, deps.replayLimit));
    let results: ReplayResult[];
    try {
      results = await Promise.all(replays);
    } catch {
      return failure('SERVICE_UNAVAILABLE', 'The event log cannot be read; try again');
    }
    const streams: Record<string, ReplayResult> = {};
    for (const [i, [stream]] of entries.entries()) streams[stream] = results[i] as ReplayResult;
    deps.flush();
    return success(ServerEvent.Resumed, { streams });
  }

  return {
    name: 'system',
    handlers: { [ClientEvent.Ping]: ping, [ClientEvent.Resume]: resume },
    onRecovered(socket) {
      if (!socket.rooms.has(rooms.authenticated)) return;
      const from = socket.data.confirmed[SYSTEM_STREAM] ?? socket.data.written[SYSTEM_STREAM];
      if (from !== undefined) deps.delivery.catchUp(socket, SYSTEM_STREAM, rooms.authenticated, from, deps.replayLimit);
    },
  };
}
