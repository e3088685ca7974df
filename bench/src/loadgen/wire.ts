/**
 * The few Engine.IO v4 / Socket.IO v5 packets the lean client speaks, over a plain WebSocket
 * (`/socket.io/?EIO=4&transport=websocket`). Event names come from @qx/protocol.
 *
 *   server → client  `0{…pingInterval…}` open, `2` ping, `40{sid}` connected, `44{…}` refused,
 *                    `41` disconnected, `42["event",data]` event, `1` close
 *   client → server  `3` pong, `40{auth}` connect, `42["event",data]` event
 */
import { ClientEvent, ServerEvent } from '@qx/protocol';

export const EIO_OPEN = 0x30; // '0'
export const EIO_CLOSE = 0x31; // '1'
export const EIO_PING = 0x32; // '2'
export const EIO_MESSAGE = 0x34; // '4'
export const SIO_CONNECT = 0x30; // '0' after '4'
export const SIO_DISCONNECT = 0x31; // '1'
export const SIO_EVENT = 0x32; // '2'
export const SIO_ACK = 0x33; // '3'
export const SIO_CONNECT_ERROR = 0x34; // '4'

export const PONG = '3';

export function socketUrl(baseUrl: string): string {
  const url = new URL('/socket.io/', baseUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = 'EIO=4&transport=websocket';
  return url.toString();
}

export function connectPacket(auth: Record<string, unknown> | null): string {
  return auth ? `40${JSON.stringify(auth)}` : '40';
}

/** An event packet; with `ackId`, the server answers it with an ACK packet of that id. */
export function eventPacket(name: string, data: unknown, ackId?: number): string {
  return `42${ackId ?? ''}${JSON.stringify([name, data])}`;
}

/** The id and first argument of an ACK packet (`43<id>[data]`); null if it is not one. */
export function decodeAck(frame: Buffer): { id: number; data: unknown } | null {
  if (frame[0] !== EIO_MESSAGE || frame[1] !== SIO_ACK) return null;
  let end = 2;
  while (end < frame.length && frame[end]! >= 0x30 && frame[end]! <= 0x39) end++;
  if (end === 2) return null;
  try {
    const args: unknown = JSON.parse(frame.toString('utf8', end));
    return { id: Number(frame.toString('latin1', 2, end)), data: Array.isArray(args) ? args[0] : undefined };
  } catch {
    return null;
  }
}

/** Leading bytes of an event packet, to classify frames without decoding them. */
function prefix(name: string): Buffer {
  return Buffer.from(`42["${name}",`, 'latin1');
}

export const MARKET_UPDATE_PREFIX = prefix(ServerEvent.MarketUpdate);
export const ORDER_UPDATE_PREFIX = prefix(ServerEvent.OrderUpdate);

export function startsWith(frame: Buffer, head: Buffer): boolean {
  if (frame.length < head.length) return false;
  for (let i = head.length - 1; i >= 2; i--) if (frame[i] !== head[i]) return false;
  return frame[0] === head[0] && frame[1] === head[1];
}

const SENT_AT = Buffer.from('"sentAt":', 'latin1');
const SEQ = Buffer.from('"seq":', 'latin1');
const COMMODITY = Buffer.from('"commodity":"', 'latin1');

/** Reads the number after `key` (searching from the end when `fromEnd`) without parsing JSON. */
function numberAfter(frame: Buffer, key: Buffer, fromEnd: boolean): number {
  const at = fromEnd ? frame.lastIndexOf(key) : frame.indexOf(key);
  if (at < 0) return Number.NaN;
  let end = at + key.length;
  while (end < frame.length) {
    const c = frame[end]!;
    // digits, '.', '-', '+', 'e', 'E'
    if ((c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d || c === 0x2b || c === 0x65 || c === 0x45) end++;
    else break;
  }
  return Number(frame.toString('latin1', at + key.length, end));
}

export function readSentAt(frame: Buffer): number {
  return numberAfter(frame, SENT_AT, false);
}

/** The envelope's `seq` is its last field, so search from the end. */
export function readSeq(frame: Buffer): number {
  return numberAfter(frame, SEQ, true);
}

export function readCommodity(frame: Buffer): string {
  const at = frame.indexOf(COMMODITY);
  if (at < 0) return '';
  const start = at + COMMODITY.length;
  const end = frame.indexOf(0x22, start);
  return end < 0 ? '' : frame.toString('latin1', start, end);
}

/** Event name and data of a rare (non-hot-path) event packet; null if it is not one. */
export function decodeEvent(frame: Buffer): { name: string; data: unknown } | null {
  if (frame[0] !== EIO_MESSAGE || frame[1] !== SIO_EVENT) return null;
  try {
    const parsed: unknown = JSON.parse(frame.toString('utf8', 2));
    if (!Array.isArray(parsed) || typeof parsed[0] !== 'string') return null;
    return { name: parsed[0], data: parsed[1] };
  } catch {
    return null;
  }
}

export { ClientEvent, ServerEvent };
