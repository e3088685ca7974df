/**
 * The baselines' HTTP side: `POST /api/v1/publish` (same body and key as the gateway's, validated
 * with the protocol's schemas, once per publish) and `GET /ready`. A validated publish becomes an
 * envelope with a per-stream seq and goes to `deliver`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  DataEvent,
  buildEnvelope,
  dataPayloadSchemas,
  publishRequestSchema,
  rooms,
  type DataEventName,
  type Envelope,
} from '@qx/protocol';

export type Deliver = (room: string, event: DataEventName, envelope: Envelope) => void;

const MAX_BODY_BYTES = 64 * 1024;

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) req.destroy(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The room a published event goes to, or null when it has none the baselines serve. */
function roomOf(event: DataEventName, payload: Record<string, unknown>, userId: string | undefined): string | null {
  if (event === DataEvent.MarketUpdate) return rooms.market(String(payload.commodity));
  if (event === DataEvent.OrderUpdate && userId) return rooms.orders(userId);
  return null;
}

export function publishHandler(apiKey: string, deliver: Deliver): (req: IncomingMessage, res: ServerResponse) => void {
  const seqByStream = new Map<string, number>();
  const expected = `Bearer ${apiKey}`;

  const publish = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.headers.authorization !== expected) return reply(res, 401, { error: 'unauthorized' });
    let json: unknown;
    try {
      json = JSON.parse(await readBody(req));
    } catch {
      return reply(res, 400, { error: 'invalid json' });
    }
    const request = publishRequestSchema.safeParse(json);
    if (!request.success) return reply(res, 400, { error: 'invalid request' });
    const { event, userId } = request.data;
    const payload = dataPayloadSchemas[event].safeParse(request.data.payload);
    if (!payload.success) return reply(res, 400, { error: 'invalid payload' });
    const data = payload.data as Record<string, unknown>;
    const room = roomOf(event, data, userId);
    if (!room) return reply(res, 400, { error: 'unsupported event' });
    const timestamp = new Date().toISOString();
    const seq = (seqByStream.get(room) ?? 0) + 1;
    seqByStream.set(room, seq);
    const body = event === DataEvent.MarketUpdate ? { ...data, timestamp } : data;
    deliver(room, event, buildEnvelope(event, body as never, { timestamp, seq, userId }));
    reply(res, 202, { accepted: true, seq });
  };

  return (req, res) => {
    const path = req.url?.split('?')[0];
    if (req.method === 'GET' && (path === '/ready' || path === '/health')) return reply(res, 200, { status: 'ok' });
    if (req.method === 'POST' && path === '/api/v1/publish') {
      publish(req, res).catch(() => reply(res, 500, { error: 'internal' }));
      return;
    }
    reply(res, 404, { error: 'not found' });
  };
}
