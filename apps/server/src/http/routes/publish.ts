/** `POST /api/v1/publish`: back-end services send any data event of the protocol to its rooms. */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { dataPayloadSchemas, publishBatchSchema, publishRequestSchema, describeZodError, type DataEventName, type ErrorCodeName } from '@qx/protocol';
import type { EventSink, PublishItem } from '../../core/event-committer.js';
import { sendError } from '../errors.js';

export type ValidationResult = { ok: true; item: PublishItem } | { ok: false; code: ErrorCodeName; message: string; field?: string };

/** Checks an untrusted `{event, payload, userId}` against the event's schema and the catalogue. */
export function validatePublishItem(commodities: ReadonlySet<string>, event: DataEventName, payload: unknown, userId: string | undefined): ValidationResult {
  const parsed = dataPayloadSchemas[event].safeParse(payload);
  if (!parsed.success) {
    const { field, message } = describeZodError(parsed.error);
    return { ok: false, code: 'INVALID_PAYLOAD', message, field: field ? `payload.${field}` : 'payload' };
  }
  const data = parsed.data as Record<string, unknown>;
  const owner = typeof data['userId'] === 'string' ? data['userId'] : undefined;
  if (owner !== undefined && userId !== undefined && owner !== userId) {
    return { ok: false, code: 'INVALID_PAYLOAD', message: 'userId does not match payload.userId', field: 'userId' };
  }
  const commodity = typeof data['commodity'] === 'string' ? data['commodity'] : undefined;
  if (commodity !== undefined && !commodities.has(commodity)) {
    return { ok: false, code: 'UNKNOWN_COMMODITY', message: `Unknown commodity: ${commodity}`, field: 'payload.commodity' };
  }
  const affected = data['affectedCommodities'];
  if (Array.isArray(affected)) {
    const unknown = affected.filter((c) => typeof c === 'string' && !commodities.has(c));
    if (unknown.length) return { ok: false, code: 'UNKNOWN_COMMODITY', message: `Unknown commodity: ${unknown.join(', ')}`, field: 'payload.affectedCommodities' };
  }
  return { ok: true, item: { event, payload: parsed.data, userId: userId ?? owner } };
}

/** The back-end's credential (`Authorization: Bearer <PUBLISH_API_KEY>`), for the publish and operator routes. */
export function apiKeyCheck(apiKey: string): {
  authorized: (request: FastifyRequest) => boolean;
  unauthorized: (request: FastifyRequest, reply: FastifyReply) => unknown;
} {
  const expected = Buffer.from(apiKey);
  return {
    authorized(request) {
      const header = request.headers.authorization;
      const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7).trim() : '');
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
    // wrong keys are counted per address like bad tokens (and slowed down past the limit)
    unauthorized(request, reply) {
      const message = 'Authorization: Bearer <PUBLISH_API_KEY> required';
      const guard = request.server.credentialGuard;
      return guard ? guard.reject(request, reply, 'UNAUTHORIZED', message) : sendError(reply, 'UNAUTHORIZED', message);
    },
  };
}

export function publishRoutes(app: FastifyInstance, deps: { sink: EventSink; commodities: ReadonlySet<string>; apiKey: string; bodyLimit: number }): void {
  // the publish API has its own body limit (PUBLISH_MAX_PAYLOAD_BYTES): a documented 500-event batch must fit
  const limit = { bodyLimit: deps.bodyLimit };
  const { authorized, unauthorized } = apiKeyCheck(deps.apiKey);
  const check = (body: { event: DataEventName; payload: unknown; userId?: string | undefined }): ValidationResult => {
    const checked = validatePublishItem(deps.commodities, body.event, body.payload, body.userId);
    if (checked.ok && checked.item.event !== 'market-update' && checked.item.event !== 'system-alert' && !checked.item.userId) {
      return { ok: false, code: 'INVALID_PAYLOAD', message: 'userId is required for private events', field: 'userId' };
    }
    return checked;
  };
  const emit = async (request: FastifyRequest, reply: FastifyReply, items: PublishItem[], single: boolean) => {
    try {
      const published = await deps.sink.commit(items);
      return reply.code(202).send(single ? published[0] : { published });
    } catch (err) {
      request.log.error({ err }, 'publish failed: events not stored');
      return sendError(reply, 'SERVICE_UNAVAILABLE', 'The event could not be stored; nothing was emitted');
    }
  };

  app.post('/api/v1/publish', limit, (request, reply) => {
    if (!authorized(request)) return unauthorized(request, reply);
    const body = publishRequestSchema.safeParse(request.body);
    if (!body.success) {
      const { field, message } = describeZodError(body.error);
      return sendError(reply, 'INVALID_PAYLOAD', message, field || undefined);
    }
    const checked = check(body.data);
    if (!checked.ok) return sendError(reply, checked.code, checked.message, checked.field);
    return emit(request, reply, [checked.item], true);
  });

  /** Several events in one request (a feed handler's tick): all valid or none published. */
  app.post('/api/v1/publish/batch', limit, (request, reply) => {
    if (!authorized(request)) return unauthorized(request, reply);
    const body = publishBatchSchema.safeParse(request.body);
    if (!body.success) {
      const { field, message } = describeZodError(body.error);
      return sendError(reply, 'INVALID_PAYLOAD', message, field || undefined);
    }
    const items: PublishItem[] = [];
    for (const [i, event] of body.data.events.entries()) {
      const checked = check(event);
      if (!checked.ok) return sendError(reply, checked.code, checked.message, `events.${i}.${checked.field ?? ''}`.replace(/\.$/, ''));
      items.push(checked.item);
    }
    return emit(request, reply, items, false);
  });
}
