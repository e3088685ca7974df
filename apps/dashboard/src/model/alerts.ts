/**
 * One feed for compliance alerts, system alerts and the screen's own notices (a refused
 * subscription, a lost connection), newest first.
 */
import type { ComplianceAlertPayload, SystemAlertPayload } from './types.js';

/** Severities of both alert kinds, mapped onto one scale for colour. */
export type Level = 'info' | 'low' | 'medium' | 'warning' | 'high' | 'critical';

export interface Alert {
  id: string;
  source: 'compliance' | 'system' | 'screen';
  /** the alert's own kind: checkType (position_limit, ...) or alertType (market_volatility, ...) */
  kind: string;
  severity: Level;
  message: string;
  time: string;
  commodities: readonly string[];
  /** compliance: how much of the limit is used (0..1) */
  utilization: number | null;
  /** a notice about the connection (lost, closed by the server) that is moot once reconnected */
  connection?: boolean;
}

export type AlertsState = readonly Alert[];
export const EMPTY_ALERTS: AlertsState = [];
export const MAX_ALERTS = 200;

export function complianceAlert(payload: ComplianceAlertPayload, envelope: { timestamp: string; seq?: number }): Alert {
  const commodity = payload.details.commodity;
  return {
    id: `compliance:${envelope.seq ?? envelope.timestamp}`,
    source: 'compliance',
    kind: payload.checkType,
    severity: payload.severity,
    message: payload.message,
    time: payload.timestamp ?? envelope.timestamp,
    commodities: commodity ? [commodity] : [],
    utilization: payload.details.utilization ?? null,
  };
}

export function systemAlert(payload: SystemAlertPayload, envelope: { timestamp: string; seq?: number }): Alert {
  return {
    id: `system:${envelope.seq ?? envelope.timestamp}`,
    source: 'system',
    kind: payload.alertType,
    severity: payload.severity,
    message: payload.message,
    time: payload.timestamp ?? envelope.timestamp,
    commodities: payload.affectedCommodities ?? [],
    utilization: null,
  };
}

export function screenNotice(kind: string, severity: Level, message: string, now: Date, opts: { connection?: boolean } = {}): Alert {
  const alert: Alert = { id: `screen:${now.getTime()}:${kind}:${message}`, source: 'screen', kind, severity, message, time: now.toISOString(), commodities: [], utilization: null };
  if (opts.connection) alert.connection = true;
  return alert;
}

/** Back online: notices about the lost connection are dropped (the server's own alerts stay). */
export function clearConnectionNotices(state: AlertsState): AlertsState {
  return state.some((a) => a.connection) ? state.filter((a) => !a.connection) : state;
}

export function addAlert(state: AlertsState, alert: Alert): AlertsState {
  if (state.some((a) => a.id === alert.id)) return state;
  return [alert, ...state].slice(0, MAX_ALERTS);
}

/** One entry of `GET /api/v1/events` (the durable event log). */
export interface LoggedEvent {
  event: string;
  seq: number;
  envelope: { type?: string; payload: unknown; timestamp: string; seq?: number };
}

/**
 * The compliance alerts of an event-log page, as the feed holds them: the same ids as when they
 * arrive live (by seq), so an alert read back after a reload is never shown twice.
 */
export function complianceAlertsFromLog(events: readonly LoggedEvent[]): Alert[] {
  return events
    .filter((e) => e.event === 'compliance-alert')
    .map((e) => complianceAlert(e.envelope.payload as ComplianceAlertPayload, { timestamp: e.envelope.timestamp, seq: e.envelope.seq ?? e.seq }));
}

/** Adds several (in any order), keeping the feed newest first. */
export function addAlerts(state: AlertsState, alerts: readonly Alert[]): AlertsState {
  const fresh = alerts.filter((a) => !state.some((s) => s.id === a.id));
  if (fresh.length === 0) return state;
  return [...state, ...fresh].sort((a, b) => Date.parse(b.time) - Date.parse(a.time)).slice(0, MAX_ALERTS);
}

/** Acknowledged alert ids, as kept per user (newest last, bounded so storage does not grow without end). */
export const MAX_ACKED = 500;
export function parseAcked(raw: string | null): string[] {
  try {
    const v: unknown = JSON.parse(raw ?? '[]');
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(-MAX_ACKED) : [];
  } catch {
    return [];
  }
}
export function withAcked(acked: readonly string[], id: string): string[] {
  return acked.includes(id) ? [...acked] : [...acked, id].slice(-MAX_ACKED);
}
