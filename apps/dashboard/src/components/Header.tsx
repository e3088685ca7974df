/** Top bar: product, connection, who is signed in. */
import type { Connection } from '../model/connection.js';
import type { Session } from '../model/session.js';
import { ConnectionBadge } from './ConnectionBadge.js';

export function Header(props: { session: Session; connection: Connection; onSignOut: () => void }) {
  return (
    <header className="topbar">
      <div className="brand">
        <span className="brand-mark">QX</span> QuantEnergx <span className="brand-sub">Realtime</span>
      </div>
      <ConnectionBadge connection={props.connection} />
      <div className="topbar-user">
        <span className="muted">{props.session.source === 'demo' ? 'demo' : 'JWT'}</span>
        <span className="user" data-testid="user">
          {props.session.userId}
        </span>
        <button type="button" className="btn-ghost" onClick={() => props.onSignOut()}>
          Sign out
        </button>
      </div>
    </header>
  );
}
