/**
 * `POST /api/v1/users/{userId}/disconnect` (the back-end's key): closes every socket of the user,
 * on every gateway of a cluster, with `disconnect-reason USER_DISCONNECTED`. The sockets are not
 * recoverable; the user may connect again with a valid token (stop issuing tokens to keep them out).
 */
import type { FastifyInstance } from 'fastify';
import { userIdSchema } from '@qx/protocol';
import { sendError } from '../errors.js';
import { apiKeyCheck } from './publish.js';

export interface UserControl {
  /** closes the user's sockets here and tells the other nodes; false when they could not be told */
  disconnectUser(userId: string): Promise<boolean>;
}

export function userRoutes(app: FastifyInstance, deps: { control: UserControl; apiKey: string }): void {
  const { authorized, unauthorized } = apiKeyCheck(deps.apiKey);
  app.post<{ Params: { userId: string } }>('/api/v1/users/:userId/disconnect', async (request, reply) => {
    if (!authorized(request)) return unauthorized(request, reply);
    const userId = userIdSchema.safeParse(request.params.userId);
    if (!userId.success) return sendError(reply, 'INVALID_PAYLOAD', 'userId: not a valid user id', 'userId');
    if (!(await deps.control.disconnectUser(userId.data))) {
      return sendError(reply, 'SERVICE_UNAVAILABLE', 'Disconnected on this node only: the other nodes could not be told (Redis unavailable)');
    }
    return reply.code(202).send({ userId: userId.data, disconnected: true });
  });
}
