/** Top bar: product, connection, the cancel-on-disconnect switch, the latest notification (fills, what an action did), who is signed in. */
import type { CancelOnDisconnect } from '../hooks/useCancelOnDisconnect.js';
import { isLive, type Connection } from '../model/connection.js';
import type { Session } from '../model/session.js';
import type { Notification } from '../model/notifications.js';
import { CancelOnDisconnectSwitch } from './CancelOnDisconnectSwitch.js';
import { ConnectionBadge } from './ConnectionBadge.js';
import { Notifications } from './Notifications.js';

export function Header(props: {
  session: Session;
  connection: Connection;
  downSince?: number | null;
  cod?: CancelOnDisconnect;
  notifications?: readonly Notification[];
  onDismiss?: (id: string) => void;
  onSignOut: () => void;
}) {
  return (
    <header className="topbar">
      <div className="brand">
        <span className="brand-mark">QX</span> QuantEnergx <span className="brand-sub">Realtime</span>
      </div>
      <ConnectionBadge connection={props.connection} downSince={props.downSince ?? null} />
      {props.cod && <CancelOnDisconnectSwitch cod={props.cod} live={isLive(props.connection)} />}
      {props.notifications && props.onDismiss ? <Notifications items={props.notifications} onDismiss={props.onDismiss} /> : <div className="topbar-fill" />}
      <div className="topbar-user">
        <span className="muted">{props.session.source === 'demo' ? 'demo' : 'JWT'}</span>
        <span className="user" data-testid="user">
          {props.session.userId}
        </span>
        <button type="button" className="btn-ghost" name="sign-out" onClick={() => props.onSignOut()}>
          Sign out
        </button>
      </div>
    </header>
  );
}
