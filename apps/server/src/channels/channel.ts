/** What a channel module provides to the gateway: its client events and how to answer them. */
import type { ClientEventName } from '@qx/protocol';
import type { Outcome } from '../realtime/outcome.js';
import type { QxSocket } from '../realtime/types.js';

export type RequestHandler = (socket: QxSocket, payload: unknown) => Outcome | Promise<Outcome>;

export interface Channel {
  readonly name: string;
  readonly handlers: Partial<Record<ClientEventName, RequestHandler>>;
  /** re-sends what a recovered or resumed socket needs (snapshots, missed events) */
  onRecovered?(socket: QxSocket): void;
  /** the socket's connection ended (it may still be recovered) */
  onDisconnected?(socket: QxSocket): void;
}

/** Room memberships of a socket that count towards MAX_SUBSCRIPTIONS_PER_SOCKET. */
export function subscriptionCount(socket: QxSocket): number {
  let n = 0;
  for (const room of socket.rooms) if (room !== socket.id && room.includes('-')) n++;
  return n;
}
