/** Compliance and system alerts (and the screen's own notices), newest first, by severity. */
import type { AlertsState } from '../model/alerts.js';
import { formatFullTime, formatTime } from '../model/format.js';
import { Panel } from './Panel.js';

export function AlertsFeed({ alerts }: { alerts: AlertsState }) {
  return (
    <Panel title="Alerts" area="alerts" extra={<span className="muted">{alerts.length}</span>}>
      <ul className="alerts">
        {alerts.length === 0 && <li className="empty">No alerts</li>}
        {alerts.map((a) => (
          <li key={a.id} className={`alert sev-${a.severity}`} data-source={a.source}>
            <div className="alert-head">
              <span className={`sev sev-${a.severity}`}>{a.severity}</span>
              <span className="alert-kind">
                {a.source} · {a.kind}
              </span>
              <span className="muted" title={formatFullTime(a.time)}>
                {formatTime(a.time)}
              </span>
            </div>
            <div className="alert-msg">{a.message}</div>
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
