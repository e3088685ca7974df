/**
 * REST limits, with @fastify/rate-limit: requests a minute per client address (every route but
 * health, readiness, metrics and the publish API, which back-end services call at their own pace)
 * and per authenticated user (after its bearer token is verified). Over a limit the answer is the
 * catalogue's 429 `RATE_LIMITED`, with `Retry-After`.
 *
 * Credential failures (a bad JWT, a wrong publish key) are counted per address in the same
 * FailureLimiter as the sockets' authentication: past its limit a failing request is answered
 * `AUTH_RATE_LIMITED` after a delay. A valid credential is never refused for them.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { wireError, type ErrorCodeName } from '@qx/protocol';
import type { FailureLimiter } from '../auth/failure-limiter.js';
import { sendError } from './errors.js';

export interface RestLimits {
  perAddressPerMinute: number;
  perUserPerMinute: number;
}

export interface CredentialGuard {
  /** answers a failed credential: its own code, or late and as AUTH_RATE_LIMITED past the address's limit */
  reject(request: FastifyRequest, reply: FastifyReply, code: ErrorCodeName, message?: string): Promise<FastifyReply>;
  /** false when the request's (verified) user is over its request rate (the 429 has been sent) */
  admitUser(request: FastifyRequest, reply: FastifyReply): Promise<boolean>;
}

declare module 'fastify' {
  interface FastifyInstance {
    credentialGuard?: CredentialGuard;
  }
}

/** Routes outside the per-address limit. */
const UNLIMITED = new Set(['/health', '/ready', '/metrics', '/api/v1/publish', '/api/v1/publish/batch']);

export function installRestLimits(app: FastifyInstance, limits: RestLimits, failures: FailureLimiter, failureDelayMs: number): void {
  // the plugin's limiters are made on first use: it decorates the instance once it has loaded
  void app.register(rateLimit, { global: false, timeWindow: 60_000 });
  let perAddress: Limiter | null = null;
  let perUser: Limiter | null = null;
  const admit = async (reply: FastifyReply, check: Limiter, request: FastifyRequest, message: string): Promise<boolean> => {
    const result = await check(request);
    if (result.isAllowed || !result.isExceeded) return true;
    const retryAfter = Math.max(1, result.ttlInSeconds);
    void reply.header('retry-after', retryAfter);
    await reply.code(429).send({ error: { ...wireError('RATE_LIMITED', message), retryAfterMs: retryAfter * 1000 } });
    return false;
  };
  app.addHook('onRequest', async (request, reply) => {
    if (UNLIMITED.has(request.routeOptions.url ?? '')) return;
    perAddress ??= app.createRateLimit({ max: limits.perAddressPerMinute, keyGenerator: (r) => `address:${r.ip}` });
    await admit(reply, perAddress, request, `At most ${limits.perAddressPerMinute} requests a minute from one address`);
  });
  app.decorate('credentialGuard', {
    async reject(request, reply, code, message) {
      if (failures.fail(request.ip) <= failures.limit) return sendError(reply, code, message);
      await new Promise((resolve) => setTimeout(resolve, failureDelayMs).unref());
      return sendError(reply, 'AUTH_RATE_LIMITED');
    },
    async admitUser(request, reply) {
      perUser ??= app.createRateLimit({ max: limits.perUserPerMinute, keyGenerator: (r) => `user:${r.user?.userId ?? ''}` });
      return admit(reply, perUser, request, `At most ${limits.perUserPerMinute} requests a minute per user`);
    },
  } satisfies CredentialGuard);
}

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;
