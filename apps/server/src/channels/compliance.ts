/** Compliance alerts of one user: room `compliance-<userId>`, event `compliance-alert`; the `compliance` role may follow anyone. */
import { ClientEvent, ServerEvent, messages, rooms } from '@qx/protocol';
import { privateChannel, type PrivateChannelDeps } from './private-channel.js';

export const complianceChannel = (deps: PrivateChannelDeps) =>
  privateChannel(
    {
      channel: 'compliance',
      room: rooms.compliance,
      subscribe: { event: ClientEvent.SubscribeCompliance, confirm: ServerEvent.ComplianceSubscribed, body: (userId, room) => ({ userId, room, message: messages.complianceSubscribed(userId) }) },
      unsubscribe: { event: ClientEvent.UnsubscribeCompliance, confirm: ServerEvent.ComplianceUnsubscribed, body: (userId, room) => ({ userId, room, message: messages.complianceUnsubscribed(userId) }) },
    },
    deps,
  );
