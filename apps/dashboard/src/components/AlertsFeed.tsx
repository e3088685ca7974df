/**
 * Compliance and system alerts (and the screen's own notices), newest first, by severity. The
 * recent compliance alerts come back from the event log after a reload or a new sign-in; the
 * trader acknowledges an alert to hide it (remembered per user in this browser).
 */
import type { AlertsState } from '../model/alerts.js';
import { formatFullTime, formatTime } from '../model/format.js';
import { explainReason } from '../model/messages.js';
import type { Commodity } from '../model/types.js';
import { Panel } from './Panel.js';

export function AlertsFeed({ alerts, acknowledged, onAcknowledge, commodityOf }: { alerts: AlertsState; acknowledged: number; onAcknowledge: (id: string) => void; commodityOf: (symbol: string | undefined) => Commodity | undefined }) {
  return (
    <Panel
      title="Alerts"
      area="alerts"
      extra={
        <span className="muted" data-testid="alerts-count" data-acknowledged={acknowledged}>
          {alerts.length}
          {acknowledged > 0 && ` · ${acknowledged} acknowledged`}
        </span>
      }
    >
      <ul className="alerts">
        {alerts.length === 0 && <li className="empty">No alerts</li>}
        {alerts.map((a) => (
          <li key={a.id} className={`alert sev-${a.severity}`} data-source={a.source} data-alert-id={a.id}>
            <div className="alert-head">
              <span className={`sev sev-${a.severity}`}>{a.severity}</span>
              <span className="alert-kind">
                {a.source} · {a.kind.replace(/_/g, ' ')}
              </span>
              <span className="muted" title={formatFullTime(a.time)}>
                {formatTime(a.time)} UTC
              </span>
              <button type="button" className="btn-small" name="acknowledge" title="Acknowledge: hide this alert (remembered on this browser)" onClick={() => onAcknowledge(a.id)}>
                Ack
              </button>
            </div>
            {/* the server's compliance messages count units: said in lots */}
            <div className="alert-msg">{a.source === 'compliance' ? explainReason(a.message, commodityOf(a.commodities[0])) : a.message}</div>
            {(a.commodities.length > 0 || a.utilization !== null) && (
              <div className="alert-meta muted">
                {a.commodities.join(', ')}
                {a.utilization !== null && ` · ${(a.utilization * 100).toFixed(1)}% of limit`}
              </div>
            )}
          </li>
        ))}
      </ul>
    </Panel>
  );
}
