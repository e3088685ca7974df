import { EnvelopeType, type DataEventName } from './events.js';
import type { DataPayloads } from './schemas.js';

/**
 * The seed's envelope `{type, payload, timestamp[, userId]}` plus `seq`: +1 per stream, so a
 * client can see a gap. `timestamp` is ISO-8601.
 */
export interface Envelope<E extends DataEventName = DataEventName> {
  type: (typeof EnvelopeType)[E];
  payload: DataPayloads[E];
  timestamp: string;
  userId?: string;
  seq: number;
}

export function buildEnvelope<E extends DataEventName>(
  event: E,
  payload: DataPayloads[E],
  meta: { timestamp: string; seq: number; userId?: string | undefined },
): Envelope<E> {
  const envelope: Envelope<E> = { type: EnvelopeType[event], payload, timestamp: meta.timestamp, seq: meta.seq };
  if (meta.userId !== undefined) {
    // keep the seed's key order: type, payload, timestamp, userId
    return { type: envelope.type, payload, timestamp: meta.timestamp, userId: meta.userId, seq: meta.seq };
  }
  return envelope;
}
