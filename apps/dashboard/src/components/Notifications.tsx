/**
 * Fills and action acknowledgements, in the top bar (never over the panels): the newest one with
 * its dismiss button, and the others behind "n more". Each stays until dismissed.
 */
import { useState } from 'react';
import { formatFullTime, formatTime } from '../model/format.js';
import type { Notification } from '../model/notifications.js';

export function Notifications(props: { items: readonly Notification[]; onDismiss: (id: string) => void }) {
  const [open, setOpen] = useState(false);
  const [latest, ...older] = props.items;
  return (
    <div className="notes" data-testid="notifications" data-count={props.items.length} role="status" aria-live="polite">
      {latest && (
        <div key={`${latest.id}:${latest.time}`} className={`note note-${latest.kind} note-${latest.tone}`} data-kind={latest.kind} data-order-id={latest.orderId}>
          <span className="note-time muted" title={formatFullTime(latest.time)}>
            {formatTime(new Date(latest.time).toISOString())}
          </span>
          <span className="note-text" title={latest.text}>
            {latest.text}
          </span>
          <button type="button" className="note-x" name="dismiss-notification" aria-label="Dismiss" title="Dismiss" onClick={() => props.onDismiss(latest.id)}>
            ×
          </button>
        </div>
      )}
      {older.length > 0 && (
        <button type="button" className="btn-ghost note-more" name="more-notifications" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
          {older.length} more
        </button>
      )}
      {open && older.length > 0 && (
        <div className="note-list" data-testid="notification-list">
          {older.map((n) => (
            <div key={n.id} className={`note note-${n.kind} note-${n.tone}`} data-kind={n.kind} data-order-id={n.orderId}>
              <span className="note-time muted">{formatTime(new Date(n.time).toISOString())}</span>
              <span className="note-text">{n.text}</span>
              <button type="button" className="note-x" name="dismiss-notification" aria-label="Dismiss" onClick={() => props.onDismiss(n.id)}>
                ×
              </button>
            </div>
          ))}
          <button type="button" className="btn-ghost" name="dismiss-all" onClick={() => props.onDismiss('all')}>
            Dismiss all
          </button>
        </div>
      )}
    </div>
  );
}
