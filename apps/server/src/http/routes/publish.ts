/** `POST /api/v1/publish`: back-end services send any data event of the protocol to its rooms. */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { publishRequestSchema } from '@qx/protocol';
import { describeInput } from '../../describe-input.js';
import type { Publisher } from '../../realtime/publisher.js';
import { sendError } from '../errors.js';

export function publishRoutes(app: FastifyInstance, deps: { publisher: Publisher; apiKey: string }): void {
  const expected = Buffer.from(deps.apiKey);
  app.post('/api/v1/publish', (request, reply) => {
    const header = request.headers.authorization;
    const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7).trim() : '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return sendError(reply, 'UNAUTHORIZED', 'Authorization: Bearer <PUBLISH_API_KEY> required');
    }
    const body = publishRequestSchema.safeParse(request.body);
    if (!body.success) {
      const { field, message } = describeInput(body.error);
      return sendError(reply, 'INVALID_PAYLOAD', message, field || undefined);
    }
    const checked = deps.publisher.validate(body.data.event, body.data.payload, body.data.userId);
    if (!checked.ok) return sendError(reply, checked.code, checked.message, checked.field);
    if (checked.item.event !== 'market-update' && checked.item.event !== 'system-alert' && !checked.item.userId) {
      return sendError(reply, 'INVALID_PAYLOAD', 'userId is required for private events', 'userId');
    }
    try {
      return reply.code(202).send(deps.publisher.publish(checked.item));
    } catch (err) {
      request.log.error({ err }, 'publish failed: event not stored');
      return sendError(reply, 'SERVICE_UNAVAILABLE', 'The event could not be stored; nothing was emitted');
    }
  });
}
