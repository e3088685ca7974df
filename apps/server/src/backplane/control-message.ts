/**
 * What one node decides about a user and every node acts on for its own sockets, checked by one
 * schema wherever it is sent (ControlBus.send, both backplanes) or received (the cluster's
 * control channel): a message it refuses is acted on nowhere.
 */
import { z } from 'zod';
import { userIdSchema } from '@qx/protocol';

/**
 * A token's roles, as many and as long as a token of at most 8192 characters (the `authenticate`
 * bound) can carry: identity providers that put a user's groups in the roles claim send dozens.
 */
const rolesSchema = z.array(z.string().max(8192)).max(4096);

export const controlMessageSchema = z.discriminatedUnion('type', [
  /** close every socket of the user, with this error code (e.g. MAX_CONNECTIONS, TOKEN_REVOKED) */
  z.strictObject({ type: z.literal('disconnect-user'), userId: userIdSchema, code: z.string().min(1).max(64), message: z.string().max(256).optional() }),
  /** the user's roles changed: rooms they may no longer follow are left */
  z.strictObject({ type: z.literal('roles-changed'), userId: userIdSchema, roles: rolesSchema }),
]);

export type ControlMessage = z.infer<typeof controlMessageSchema>;
