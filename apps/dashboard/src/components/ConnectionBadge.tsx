/** Connection state at a glance: connected, reconnecting, auth error; "reconnected" for a while after a loss. */
import { useEffect, useState } from 'react';
import type { Connection } from '../model/connection.js';
import { formatFullTime, formatTime } from '../model/format.js';

const LABEL: Record<Connection['status'], string> = {
  connecting: 'Connecting',
  connected: 'Live',
  reconnecting: 'Reconnecting',
  'auth-error': 'Auth error',
  offline: 'Offline',
};

/** how long "reconnected" stays beside the badge */
const RECONNECTED_MS = 8000;

export function ConnectionBadge({ connection, downSince = null }: { connection: Connection; downSince?: number | null }) {
  const [recent, setRecent] = useState(false);
  useEffect(() => {
    if (connection.reconnects === 0) return;
    setRecent(true);
    const timer = setTimeout(() => setRecent(false), RECONNECTED_MS);
    return () => clearTimeout(timer);
  }, [connection.reconnects]);
  const reconnected = recent && connection.status === 'connected';
  const since = downSince !== null && connection.status !== 'connected' ? new Date(downSince).toISOString() : null;
  return (
    <span
      className={`conn conn-${connection.status}`}
      data-testid="connection"
      data-status={connection.status}
      data-reconnected={reconnected}
      title={[connection.detail, since ? `connection lost ${formatFullTime(since) ?? ''}` : null].filter(Boolean).join(' · ') || undefined}
      data-down-since={since ?? undefined}
    >
      <span className="conn-dot" />
      {LABEL[connection.status]}
      {reconnected && <span className="conn-detail">reconnected</span>}
      {connection.status !== 'connected' && connection.detail ? <span className="conn-detail">{connection.detail}</span> : null}
      {since && (
        <span className="conn-detail" data-testid="down-since">
          down since {formatTime(since)} UTC
        </span>
      )}
    </span>
  );
}
