/** Who may follow which private room: the owner; `compliance` any compliance room; `admin` any. */
import type { PrivateChannel } from '@qx/protocol';

export const Role = { Admin: 'admin', Compliance: 'compliance' } as const;

export function mayFollow(caller: { userId: string; roles: readonly string[] }, channel: PrivateChannel, userId: string): boolean {
  if (caller.userId === userId) return true;
  if (caller.roles.includes(Role.Admin)) return true;
  return channel === 'compliance' && caller.roles.includes(Role.Compliance);
}
