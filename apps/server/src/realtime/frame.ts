/**
 * An outbound data event, encoded once for every recipient: the Socket.IO packet text and the
 * complete WebSocket frame that carries it (`4` = Engine.IO message, `2` = Socket.IO event).
 */
import type { DataEventName, FeedEventName } from '@qx/protocol';
import type { PathTimes } from '../backplane/backplane.js';

export interface OutboundFrame<E extends DataEventName | FeedEventName = DataEventName | FeedEventName> {
  event: E;
  stream: string;
  seq: number;
  /** Socket.IO packet text, e.g. `2["market-update",{...}]` */
  packet: string;
  /** unmasked WebSocket text frame of `4` + packet, shared by every socket it goes to */
  wsFrame: Buffer;
  /** market data of one commodity may be conflated for a slow socket; private events never */
  conflateKey: string | null;
  /**
   * What replaces this frame when a slow socket's queue already holds one with the same key:
   * the frame itself (the latest market-update wins), or for a book delta, a full snapshot as of
   * this delta (two deltas cannot be merged by dropping one).
   */
  conflated?: () => OutboundFrame;
  /** performance.now() when the event was published, for the publish-to-emit histogram */
  publishedAt: number;
  /** set once its fan-out has been timed */
  timed: boolean;
  /** an order's path so far, and when this node received it (epoch ms): timed when first written */
  path?: { times: PathTimes; deliveredAt: number } | undefined;
}

export function encodeFrame<E extends DataEventName | FeedEventName>(
  event: E,
  envelopeJson: string,
  meta: { stream: string; seq: number; conflateKey: string | null; publishedAt: number },
): OutboundFrame<E> {
  const packet = `2["${event}",${envelopeJson}]`;
  return { event, packet, wsFrame: wsTextFrame(`4${packet}`), ...meta, timed: false };
}

/** RFC 6455 text frame, FIN set, unmasked (server to client), no extensions. */
export function wsTextFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81;
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(0, 2);
    frame.writeUInt32BE(length, 6);
  }
  frame.write(text, headerLength, 'utf8');
  return frame;
}
