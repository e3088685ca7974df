/**
 * JWT bearer authentication for the REST API: the same tokens, and the same checks, as the sockets;
 * failures counted per address and requests per user limited (./rate-limits.ts).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TokenVerifier, VerifiedToken } from '../auth/token-verifier.js';
import { sendError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    user: VerifiedToken | null;
  }
}

export function bearerAuth(verifier: TokenVerifier) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const guard = request.server.credentialGuard;
    if (!token) {
      await sendError(reply, 'UNAUTHORIZED', 'Authorization: Bearer <JWT> required');
      return;
    }
    const result = await verifier.verify(token);
    if (!result.ok) {
      // counted per address; past the limit answered late (a valid token is never refused for it)
      const code = result.code === 'TOKEN_EXPIRED' ? 'TOKEN_EXPIRED' : 'INVALID_TOKEN';
      await (guard ? guard.reject(request, reply, code) : sendError(reply, code));
      return;
    }
    request.user = result.token;
    if (guard) await guard.admitUser(request, reply);
  };
}
