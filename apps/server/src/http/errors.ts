/**
 * REST errors: `{error: {code, message, field?}}` with the catalogue's HTTP status — every error
 * response has that shape, Fastify's own (bad URL, long parameters, unsupported media type, bad
 * JSON, unknown route) and the HTTP parser's (headers too large, malformed requests) included.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, wireError, type ErrorCodeName } from '@qx/protocol';
import type { Metrics } from '../metrics.js';
import { BodyError, installJsonParser } from './json-body.js';

export function sendError(reply: FastifyReply, code: ErrorCodeName, message?: string, field?: string): FastifyReply {
  return reply.code(ErrorCode[code].status).send({ error: wireError(code, message, field) });
}

/** Maps Fastify's own failures (bad JSON, body too large, unknown route) onto the catalogue. */
export function installErrorHandlers(app: FastifyInstance, metrics: Metrics): void {
  installJsonParser(app);
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode >= 400 && typeof payload === 'string' && payload.startsWith('{"error":{"code":"')) {
      const code = payload.slice(18, payload.indexOf('"', 18));
      metrics.requestErrors.labels(code).inc();
    }
    return payload;
  });
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, 'PAYLOAD_TOO_LARGE');
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendError(reply, 'UNSUPPORTED_MEDIA_TYPE');
    if (err instanceof BodyError) return sendError(reply, 'INVALID_PAYLOAD', err.message, err.field);
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      // malformed JSON, prototype poisoning, empty body with a JSON content type, ...
      return sendError(reply, 'INVALID_PAYLOAD', err.message);
    }
    request.log.error({ err }, 'request failed');
    return sendError(reply, 'INTERNAL');
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, 'NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`));
}

/** Fastify's failures before routing (Fastify's `frameworkErrors` option). */
export function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') void sendError(reply, 'URI_TOO_LONG', 'A path parameter is too long');
  else if (err.code === 'FST_ERR_BAD_URL') void sendError(reply, 'BAD_REQUEST', 'Malformed URL');
  else void sendError(reply, 'BAD_REQUEST', err.message);
}

/**
 * The HTTP parser's failures (Fastify's `clientErrorHandler`): there is no request to answer, so
 * the coded body is written on the socket, which is then closed.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCodeName =
    err.code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'REQUEST_TIMEOUT' : 'BAD_REQUEST';
  const { status } = ErrorCode[code];
  const body = JSON.stringify({ error: wireError(code) });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
