/**
 * Engine leadership on PostgreSQL: of the engine processes, the one whose dedicated connection
 * holds `pg_try_advisory_lock(ADVISORY_LOCK.engineLeader)` leads. Winning raises the term in
 * `engine_leader` (recording the node and its backend pid); every write transaction of the
 * engine carries that term and is refused (FencedError) once it is stale. The leader heartbeats;
 * a standby polls, and when the lock is held but the heartbeat is older than the lease — the
 * holder is hung or SIGSTOPped and keeps its TCP connection, so its lock, forever — it
 * terminates the holder's backend (pg_terminate_backend: superuser or pg_signal_backend), takes
 * the lock and a new term. The engine's writes go through the same connection that holds the
 * lock (`writer`), so a leader whose connection is gone cannot write at all.
 */
import { EventEmitter } from 'node:events';
import type pg from 'pg';
import type { Logger } from 'pino';
import { PgStore } from '../../../store/postgres/pg-store.js';
import { ADVISORY_LOCK } from '../../../store/postgres/migrations.js';
import { Mutex } from '../../../store/postgres/mutex.js';
import { CountingClient } from '../../../store/postgres/pg-counting-client.js';
import type { Fence, Store } from '../../../store/store.js';

export interface LeadershipOptions {
  connectionString: string;
  nodeId: string;
  /** leader heartbeat period (default 500 ms) */
  heartbeatMs?: number | undefined;
  /** standby poll period (default 250 ms) */
  pollMs?: number | undefined;
  /** a heartbeat older than this means the leader is gone (default 2000 ms) */
  leaseMs?: number | undefined;
  /** after losing the lead, campaign again as a standby (default true) */
  rejoin?: boolean | undefined;
  logger?: Logger | undefined;
}

export type LeadershipState = 'idle' | 'standby' | 'leader' | 'stopped';

interface LeadershipEvents {
  elected: [term: number];
  lost: [reason: string];
}

interface LeaderRow {
  term: number;
  backend_pid: number | null;
  holder: number | null;
  age_ms: number | null;
}

export class EngineLeadership extends EventEmitter<LeadershipEvents> {
  private readonly heartbeatMs: number;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly rejoin: boolean;
  private client: pg.Client | null = null;
  /** commits and heartbeats on the leader's connection, one at a time */
  private mutex = new Mutex();
  private timer: NodeJS.Timeout | null = null;
  private currentState: LeadershipState = 'idle';
  private currentTerm: number | null = null;
  private suspended = false;
  private ticking = false;
  /** since when the lock holder has not been the leader recorded in engine_leader */
  private unrecordedSince: number | null = null;

  constructor(private readonly options: LeadershipOptions) {
    super();
    this.heartbeatMs = options.heartbeatMs ?? 500;
    this.pollMs = options.pollMs ?? 250;
    this.leaseMs = options.leaseMs ?? 2000;
    this.rejoin = options.rejoin ?? true;
  }

  get state(): LeadershipState {
    return this.currentState;
  }

  get isLeader(): boolean {
    return this.currentState === 'leader';
  }

  /** the term this node leads in, or null */
  get term(): number | null {
    return this.currentTerm;
  }

  /** the fence for the engine's writes while leading */
  fence(): Fence | undefined {
    return this.currentTerm === null ? undefined : { term: this.currentTerm };
  }

  /**
   * The store the engine writes through while it leads: commits on the connection holding the
   * lock, fenced by the caller with `fence()`. Only valid for the current term: after `lost`,
   * its commits fail.
   */
  writer(store: PgStore): Store {
    if (this.currentState !== 'leader' || !this.client) throw new Error('not the engine leader');
    return store.withWriter(this.client, this.mutex);
  }

  /**
   * Steps down now (emits `lost(reason)`, ends the connection and so the lock), e.g. when a
   * fenced commit was refused: no need to wait for the next heartbeat to find out.
   */
  resign(reason: string): void {
    this.stepDown(reason);
  }

  /** Starts campaigning: leads at once if nobody does, else stands by. */
  start(): void {
    if (this.currentState !== 'idle') return;
    this.currentState = 'standby';
    this.schedule(0);
  }

  /** Steps down (if leading) and releases the connection; emits `lost('stopped')` when it led. */
  async stop(): Promise<void> {
    if (this.currentState === 'stopped') return;
    const wasLeader = this.currentState === 'leader';
    this.currentState = 'stopped';
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.currentTerm = null;
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => undefined);
    if (wasLeader) this.emit('lost', 'stopped');
  }

  /**
   * Stops every timer of this instance while keeping its connection (and its lock, if it leads):
   * what a hung or SIGSTOPped process looks like from the outside. `resume` restarts them.
   */
  suspend(): void {
    this.suspended = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  resume(): void {
    if (!this.suspended) return;
    this.suspended = false;
    if (this.currentState === 'leader' || this.currentState === 'standby') this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.suspended || this.currentState === 'stopped' || this.currentState === 'idle') return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.timer = null;
    if (this.ticking || this.suspended) return;
    this.ticking = true;
    try {
      if (this.currentState === 'leader') await this.heartbeat();
      else if (this.currentState === 'standby') await this.campaign();
    } finally {
      this.ticking = false;
    }
  }

  private async connect(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new CountingClient({ ...PgStore.clientConfig(this.options.connectionString, `qx-engine-${this.options.nodeId}`), connectionTimeoutMillis: this.leaseMs });
    client.on('error', (err) => this.connectionLost(client, err));
    client.on('end', () => this.connectionLost(client, new Error('connection closed')));
    await client.connect();
    if (this.currentState === 'stopped') {
      await client.end().catch(() => undefined);
      throw new Error('stopped');
    }
    this.client = client;
    this.mutex = new Mutex();
    return client;
  }

  /** The connection died (terminated by a standby, the server went away, ...). */
  private connectionLost(client: pg.Client, err: Error): void {
    if (client !== this.client) return;
    this.client = null;
    void client.end().catch(() => undefined);
    if (this.currentState === 'leader') this.stepDown(`connection lost: ${err.message}`);
    else this.schedule(this.pollMs);
  }

  private async campaign(): Promise<void> {
    let client: pg.Client;
    try {
      client = await this.connect();
    } catch (err) {
      this.options.logger?.warn({ err }, 'engine leadership: cannot connect to PostgreSQL');
      this.schedule(this.pollMs);
      return;
    }
    try {
      const got = await client.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1) AS got', [ADVISORY_LOCK.engineLeader]);
      if (got.rows[0]?.got) {
        const { rows } = await client.query<{ term: number }>(
          `UPDATE engine_leader SET term = term + 1, node_id = $1, backend_pid = pg_backend_pid(), heartbeat_at = now()
           WHERE id = 1 RETURNING term`,
          [this.options.nodeId],
        );
        const term = rows[0]?.term;
        if (term === undefined) throw new Error('engine_leader has no row (is the schema migrated?)');
        if (this.currentState !== 'standby' || this.client !== client) {
          // stopped meanwhile: the lock goes with the connection
          return;
        }
        this.currentState = 'leader';
        this.currentTerm = term;
        this.unrecordedSince = null;
        this.options.logger?.info({ term, nodeId: this.options.nodeId }, 'engine leader elected');
        this.emit('elected', term);
        this.schedule(this.heartbeatMs);
        return;
      }
      await this.checkHolder(client);
    } catch (err) {
      this.options.logger?.warn({ err }, 'engine leadership: campaign failed');
      if (this.client === client) {
        this.client = null;
        await client.end().catch(() => undefined);
      }
    }
    this.schedule(this.pollMs);
  }

  /** The lock is held: if its holder has stopped heartbeating for longer than the lease, end its session. */
  private async checkHolder(client: pg.Client): Promise<void> {
    const key = BigInt(ADVISORY_LOCK.engineLeader);
    const { rows } = await client.query<LeaderRow>(
      `SELECT e.term, e.backend_pid,
              (SELECT l.pid FROM pg_locks l
                WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 1 LIMIT 1) AS holder,
              (extract(epoch FROM now() - e.heartbeat_at) * 1000)::float8 AS age_ms
         FROM engine_leader e WHERE e.id = 1`,
      [Number(key >> 32n), Number(key & 0xffffffffn)],
    );
    const row = rows[0];
    if (!row || row.holder === null) return; // released meanwhile: the next poll takes it
    let stale: boolean;
    if (row.holder === row.backend_pid) {
      this.unrecordedSince = null;
      stale = row.age_ms === null || row.age_ms > this.leaseMs;
    } else {
      // holds the lock but never recorded its term: a winner about to, or one that hung before it could
      this.unrecordedSince ??= Date.now();
      stale = Date.now() - this.unrecordedSince > this.leaseMs;
    }
    if (!stale) return;
    this.options.logger?.warn({ holder: row.holder, term: row.term, heartbeatAgeMs: row.age_ms }, 'engine leader stopped heartbeating: terminating its session');
    await client.query('SELECT pg_terminate_backend($1)', [row.holder]);
    this.unrecordedSince = null;
    // the lock is free once the backend has gone: try again soon
    this.schedule(Math.min(this.pollMs, 50));
  }

  private async heartbeat(): Promise<void> {
    const client = this.client;
    const term = this.currentTerm;
    if (!client || term === null) return;
    try {
      const result = await this.mutex.run(() =>
        client.query('UPDATE engine_leader SET heartbeat_at = now() WHERE id = 1 AND term = $1 AND backend_pid = pg_backend_pid()', [term]),
      );
      if (this.currentState !== 'leader' || this.currentTerm !== term) return;
      if (result.rowCount !== 1) {
        this.stepDown(`fenced: term ${term} is no longer the leader's`);
        return;
      }
    } catch (err) {
      if (this.currentState === 'leader' && this.currentTerm === term) this.stepDown(`heartbeat failed: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    this.schedule(this.heartbeatMs);
  }

  private stepDown(reason: string): void {
    if (this.currentState !== 'leader') return;
    this.options.logger?.warn({ reason, term: this.currentTerm }, 'engine leader stepped down');
    this.currentTerm = null;
    this.currentState = this.rejoin ? 'standby' : 'stopped';
    const client = this.client;
    this.client = null;
    // the connection goes with the lead: its lock is released, and any write on it fails
    if (client) void client.end().catch(() => undefined);
    this.emit('lost', reason);
    this.schedule(this.pollMs);
  }
}
