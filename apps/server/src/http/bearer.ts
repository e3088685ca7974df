/** JWT bearer authentication for the REST API: the same tokens, and the same checks, as the sockets. */
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
    if (!token) {
      await sendError(reply, 'UNAUTHORIZED', 'Authorization: Bearer <JWT> required');
      return;
    }
    const result = await verifier.verify(token);
    if (!result.ok) {
      await sendError(reply, result.code === 'TOKEN_EXPIRED' ? 'TOKEN_EXPIRED' : 'INVALID_TOKEN');
      return;
    }
    request.user = result.token;
  };
}
