/**
 * The engine's trading controls in the stores: kill switches (`user-control`), dead-man's switch
 * deadlines (`dead-man`), market statuses (`market-status`) and cancel-on-disconnect registrations
 * (`connection`). Each is the latest state per key,
 * kept as one row of `trading_controls (kind, key, record)` in SQLite and PostgreSQL alike, and
 * handed back whole to `Exchange.restore`.
 */
import type { JournalRecord } from '@qx/engine';

export type ControlKind = 'user-control' | 'dead-man' | 'market-status' | 'connection';

export interface ControlRow {
  kind: ControlKind;
  /** userId, or the commodity for a market status */
  key: string;
  record: object;
}

/** The row a journal record upserts, or null for the other kinds. */
export function controlRow(r: JournalRecord): ControlRow | null {
  switch (r.kind) {
    case 'user-control':
      return { kind: r.kind, key: r.control.userId, record: r.control };
    case 'dead-man':
      return { kind: r.kind, key: r.deadMan.userId, record: r.deadMan };
    case 'market-status':
      return { kind: r.kind, key: r.status.commodity, record: r.status };
    case 'connection':
      return { kind: r.kind, key: r.connection.id, record: r.connection };
    default:
      return null;
  }
}

/** The journal record a stored row stands for (null for a kind this version does not know). */
export function controlRecord(kind: string, record: unknown): JournalRecord | null {
  switch (kind) {
    case 'user-control':
      return { kind, control: record as Extract<JournalRecord, { kind: 'user-control' }>['control'] };
    case 'dead-man':
      return { kind, deadMan: record as Extract<JournalRecord, { kind: 'dead-man' }>['deadMan'] };
    case 'market-status':
      return { kind, status: record as Extract<JournalRecord, { kind: 'market-status' }>['status'] };
    case 'connection':
      return { kind, connection: record as Extract<JournalRecord, { kind: 'connection' }>['connection'] };
    default:
      return null;
  }
}
