/** The connection as the screen shows it, from the SDK's live state. */
import type { LiveState } from '@qx/client/react';

export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'auth-error' | 'offline';

export interface Connection {
  status: ConnectionStatus;
  /** why, for auth errors and disconnects */
  detail: string | null;
  /** times the connection came back after being lost (the screen says "reconnected") */
  reconnects: number;
}

export function connectionOf(state: Pick<LiveState, 'status' | 'reconnects' | 'error' | 'disconnectReason'>): Connection {
  const status: ConnectionStatus = state.status === 'closed' ? 'offline' : state.status;
  const detail = status === 'auth-error' ? (state.error?.message ?? null) : status === 'connected' ? null : (state.disconnectReason?.message ?? null);
  return { status, detail, reconnects: state.reconnects };
}

/** Prices on screen are stale while the connection is not live. */
export const isLive = (connection: Connection): boolean => connection.status === 'connected';
