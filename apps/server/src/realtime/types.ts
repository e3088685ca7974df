import type { Server, Socket } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '@qx/protocol';

export interface SocketAuth {
  userId: string;
  roles: string[];
  /** epoch ms; null when the token never expires */
  expiresAt: number | null;
}

/** Per-socket state; kept across a short disconnect by connection state recovery. */
export interface SocketData {
  auth: SocketAuth | null;
  /** private rooms left when the token expired, rejoined on refresh */
  suspendedRooms: string[];
  /** last seq written to the socket, per private stream */
  written: Record<string, number>;
  /** last seq the client provably received (it answered a ping sent after it), per private stream */
  confirmed: Record<string, number>;
  /**
   * set when this node saw the transport close: `written` is then final, and what the client
   * received is known exactly only where it equals `confirmed` (a session saved by a gateway that
   * crashed has neither)
   */
  cut?: boolean;
  /** what this socket's connection cancels when it ends and is not recovered (`cancel-on-disconnect`) */
  cancelOnDisconnect?: 'connection' | 'account' | undefined;
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface InterServerEvents {}

export type QxServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type QxSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
