/** The top bar's cancel-on-disconnect switch: off by default; when on, it says so in plain sight. */
import type { CancelOnDisconnect } from '../hooks/useCancelOnDisconnect.js';

const WHAT = 'When on, the orders placed from this screen are cancelled if its connection drops and does not come back (page closed, network lost)';

export function CancelOnDisconnectSwitch(props: { cod: CancelOnDisconnect; live: boolean }) {
  const { cod } = props;
  return (
    <label className={`cod cod-${cod.state}`} data-testid="cod-switch" data-state={cod.state} title={WHAT}>
      <input type="checkbox" name="cancel-on-disconnect" checked={cod.wanted} disabled={!props.live} onChange={(e) => cod.set(e.target.checked)} />
      Cancel on disconnect
      {cod.state === 'on' && (
        <span className="cod-badge" data-testid="cod-on">
          ON
        </span>
      )}
      {cod.state === 'pending' && <span className="muted">…</span>}
    </label>
  );
}
