/**
 * Room and stream names. A room is where a socket listens; a stream is an ordered, numbered
 * sequence of envelopes. Private rooms and streams share their names (`orders-user-123`).
 */
export const rooms = {
  trading: (userId: string): string => `trading-${userId}`,
  orders: (userId: string): string => `orders-${userId}`,
  compliance: (userId: string): string => `compliance-${userId}`,
  market: (commodity: string): string => `market-${commodity}`,
  /** the streaming book of one commodity at one depth (addition) */
  book: (commodity: string, depth: number): string => `book-${commodity}-${depth}`,
  /** the public tape of one commodity (addition) */
  trades: (commodity: string): string => `trades-${commodity}`,
  /** the market status (open, halted, closed) of one commodity (addition) */
  status: (commodity: string): string => `status-${commodity}`,
  /** Every authenticated socket is in this room; system-alert goes here. */
  authenticated: 'authenticated',
} as const;

export const SYSTEM_STREAM = 'system';

export type PrivateChannel = 'trading' | 'orders' | 'compliance';
export const PRIVATE_CHANNELS: readonly PrivateChannel[] = ['trading', 'orders', 'compliance'];

export function privateRoom(channel: PrivateChannel, userId: string): string {
  return rooms[channel](userId);
}

const PRIVATE_STREAM = /^(trading|orders|compliance)-(.+)$/;

/** Splits `orders-user-123` into its channel and user; null for any other name. */
export function parsePrivateStream(stream: string): { channel: PrivateChannel; userId: string } | null {
  const m = PRIVATE_STREAM.exec(stream);
  if (!m) return null;
  return { channel: m[1] as PrivateChannel, userId: m[2] as string };
}
