/**
 * Who may follow which private room: the owner; `compliance` any compliance room; `admin` any.
 * Who may stop a user's trading or halt a market: `admin` and `risk`.
 */
import type { PrivateChannel } from '@qx/protocol';

export const Role = { Admin: 'admin', Compliance: 'compliance', Risk: 'risk' } as const;

/** A risk manager's powers: the kill switch and market halts. */
export function mayControlRisk(caller: { roles: readonly string[] }): boolean {
  return caller.roles.includes(Role.Admin) || caller.roles.includes(Role.Risk);
}

export function mayFollow(caller: { userId: string; roles: readonly string[] }, channel: PrivateChannel, userId: string): boolean {
  if (caller.userId === userId) return true;
  if (caller.roles.includes(Role.Admin)) return true;
  return channel === 'compliance' && caller.roles.includes(Role.Compliance);
}
