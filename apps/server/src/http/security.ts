/**
 * The HTTP edge: CORS for REST with the same CORS_ORIGIN as Socket.IO (@fastify/cors: preflights
 * answered, the allowed origin reflected), and security headers on every response
 * (@fastify/helmet): nosniff, Referrer-Policy, frame and cross-origin policies, the dashboard's
 * Content-Security-Policy, and HSTS when the request came over TLS (directly or, with TRUST_PROXY,
 * by X-Forwarded-Proto from a trusted proxy).
 */
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

/** The dashboard talks only to its own origin and runs nothing inline. */
export const CONTENT_SECURITY_POLICY = {
  'default-src': ["'self'"],
  'connect-src': ["'self'", 'ws:', 'wss:'],
  'img-src': ["'self'", 'data:'],
  'style-src': ["'self'"],
  'frame-ancestors': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
};

const HSTS = 'max-age=31536000; includeSubDomains';

/** `*` or comma-separated origins, as CORS_ORIGIN is written. */
export function allowedOrigins(corsOrigin: string): true | string[] {
  return corsOrigin.trim() === '*' ? true : corsOrigin.split(',').map((o) => o.trim()).filter(Boolean);
}

export function installSecurityHeaders(app: FastifyInstance, corsOrigin: string): void {
  const origins = allowedOrigins(corsOrigin);
  void app.register(cors, {
    origin: origins === true ? '*' : origins,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type'],
    exposedHeaders: ['retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'],
    maxAge: 600,
  });
  void app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    referrerPolicy: { policy: 'no-referrer' },
    // HSTS only means something over TLS: set below when the request came over it
    strictTransportSecurity: false,
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.protocol === 'https') void reply.header('strict-transport-security', HSTS);
    return payload;
  });
}
