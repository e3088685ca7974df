/** REST errors: `{error: {code, message, field?}}` with the catalogue's HTTP status. */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { ErrorCode, wireError, type ErrorCodeName } from '@qx/protocol';
import type { Metrics } from '../metrics.js';

export function sendError(reply: FastifyReply, code: ErrorCodeName, message?: string, field?: string): FastifyReply {
  return reply.code(ErrorCode[code].status).send({ error: wireError(code, message, field) });
}

/** Maps Fastify's own failures (bad JSON, body too large, unknown route) onto the catalogue. */
export function installErrorHandlers(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode >= 400 && typeof payload === 'string' && payload.startsWith('{"error":{"code":"')) {
      const code = payload.slice(18, payload.indexOf('"', 18));
      metrics.requestErrors.labels(code).inc();
    }
    return payload;
  });
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, 'PAYLOAD_TOO_LARGE');
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendError(reply, 'INVALID_PAYLOAD', 'Content-Type must be application/json');
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      // malformed JSON, prototype poisoning, empty body with a JSON content type, ...
      return sendError(reply, 'INVALID_PAYLOAD', err.message);
    }
    request.log.error({ err }, 'request failed');
    return sendError(reply, 'INTERNAL');
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, 'NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`));
}
