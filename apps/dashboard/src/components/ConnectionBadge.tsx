/** Connection state at a glance: connected, reconnecting, auth error. */
import type { Connection } from '../model/live-state.js';

const LABEL: Record<Connection['status'], string> = {
  connecting: 'Connecting',
  connected: 'Live',
  reconnecting: 'Reconnecting',
  'auth-error': 'Auth error',
  offline: 'Offline',
};

export function ConnectionBadge({ connection }: { connection: Connection }) {
  return (
    <span className={`conn conn-${connection.status}`} data-testid="connection" data-status={connection.status} title={connection.detail ?? undefined}>
      <span className="conn-dot" />
      {LABEL[connection.status]}
      {connection.status !== 'connected' && connection.detail ? <span className="conn-detail">{connection.detail}</span> : null}
    </span>
  );
}
