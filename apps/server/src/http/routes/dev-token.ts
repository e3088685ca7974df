/** Demo mode only: `POST /api/v1/auth/dev-token {userId, roles?}` signs a token with the random demo secret. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { userIdSchema, describeZodError } from '@qx/protocol';
import type { SecretTokenVerifier } from '../../auth/token-verifier.js';
import { sendError } from '../errors.js';

const body = z.strictObject({
  userId: userIdSchema,
  roles: z.array(z.enum(['trader', 'compliance', 'risk', 'admin'])).max(4).optional(),
});

export function devTokenRoutes(app: FastifyInstance, deps: { signer: SecretTokenVerifier; ttlSeconds: number }): void {
  app.post('/api/v1/auth/dev-token', async (request, reply) => {
    const parsed = body.safeParse(request.body);
    if (!parsed.success) {
      const { field, message } = describeZodError(parsed.error);
      return sendError(reply, 'INVALID_PAYLOAD', message, field || undefined);
    }
    const roles = parsed.data.roles ?? [];
    const token = await deps.signer.sign(parsed.data.userId, { roles, ttlSeconds: deps.ttlSeconds });
    const expiresAt = new Date(Date.now() + deps.ttlSeconds * 1000).toISOString();
    return { token, userId: parsed.data.userId, roles, expiresAt };
  });
}
