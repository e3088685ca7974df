/**
 * The connection's trading safety nets as the client keeps them. Cancel-on-disconnect belongs to
 * a connection: the gateway keeps it for a connection it recovers, and a new session starts
 * without it, so the client asks for it again on each new session — before any order of that
 * session goes out over the socket (an order placed before it would not be covered). The
 * dead-man's switch (`cancel-all-after`) lives with the trading core per user; `DeadMan` re-arms it
 * on an interval and at once after each reconnect, and stops with the client.
 */
import { ClientEvent, type CancelAllAfterAck, type CancelOnDisconnectAck, type CancelOnDisconnectScope } from '@qx/protocol/wire';
import type { ClientContext } from './context.js';
import { QuantEnergxError, toQuantEnergxError } from './errors.js';
import type { OrderEntry } from './orders.js';
import type { RequestOptions, Requests } from './requests.js';

/** Every scope the gateway takes (a record, so a scope added to the protocol is a compile error here). */
const SCOPES: Record<CancelOnDisconnectScope, true> = { connection: true, account: true, off: true };

/** `deadManSwitch` options. */
export interface DeadManSwitchOptions {
  /** cancel all the user's open orders unless re-armed within this time (1 000–86 400 000 ms) */
  timeoutMs: number;
  /** re-arm this often (default a third of `timeoutMs`); less than `timeoutMs` */
  every?: number;
  /** a re-arm that failed (default: the client's `error` event); the switch keeps re-arming */
  onError?: (error: QuantEnergxError) => void;
}

/** A running dead-man's switch. */
export interface DeadManSwitch {
  readonly timeoutMs: number;
  readonly every: number;
  /** when the gateway will cancel the user's open orders unless re-armed (ISO; null once disarmed) */
  readonly firesAt: string | null;
  /** times the gateway accepted an arm (the first included) */
  readonly arms: number;
  /** still re-arming */
  readonly active: boolean;
  /**
   * Stops re-arming. With `disarm` (default true) it also disarms the switch at the gateway
   * (`cancel-all-after {timeoutMs: 0}`); without, the last deadline stands and fires unless
   * something re-arms it.
   */
  stop(options?: RequestOptions & { disarm?: boolean }): Promise<void>;
}

export class SafetyNets {
  /** the cancel-on-disconnect scope asked for (re-applied on each new session) */
  private scope: CancelOnDisconnectScope = 'off';
  /** a change of cancel-on-disconnect in flight: socket orders wait for it */
  private changing: Promise<unknown> | null = null;
  private deadMan: DeadMan | null = null;

  constructor(
    private readonly ctx: ClientContext,
    private readonly requests: Requests,
    private readonly orders: () => OrderEntry,
  ) {}

  get cancelOnDisconnectScope(): CancelOnDisconnectScope {
    return this.scope;
  }

  /** Settles once no change of cancel-on-disconnect is in flight (never rejects). */
  async ready(): Promise<void> {
    // a session authenticated in this very task asks for its scope before this resumes
    await Promise.resolve();
    while (this.changing) await this.changing;
  }

  async cancelOnDisconnect(scope: unknown, options?: RequestOptions): Promise<CancelOnDisconnectAck> {
    if (typeof scope !== 'string' || !Object.hasOwn(SCOPES, scope)) {
      throw new QuantEnergxError('INVALID_PAYLOAD', `cancelOnDisconnect: scope must be "connection", "account" or "off", got ${JSON.stringify(scope) ?? typeof scope}`, {
        event: ClientEvent.CancelOnDisconnect,
        field: 'scope',
      });
    }
    const wanted = scope as CancelOnDisconnectScope;
    const previous = this.scope;
    // wanted from now on: a new session while the request is out asks for it too
    this.scope = wanted;
    const request = this.requests.request(ClientEvent.CancelOnDisconnect, { scope: wanted }, options);
    this.track(request);
    try {
      return await request;
    } catch (err) {
      if (this.scope === wanted) this.scope = previous;
      throw err;
    }
  }

  /** A new session (not recovered): the gateway no longer knows this connection's scope; ask again. */
  restore(session: () => boolean): void {
    if (this.scope !== 'off') {
      const scope = this.scope;
      this.track(
        this.requests.call(ClientEvent.CancelOnDisconnect, { scope }).catch((err: unknown) => {
          if (session()) this.ctx.report(err);
        }),
      );
    }
    this.deadMan?.rearmNow();
  }

  /** The session was recovered: the gateway kept the scope; the dead-man's switch is re-armed at once. */
  recovered(): void {
    this.deadMan?.rearmNow();
  }

  async deadManSwitch(options: DeadManSwitchOptions): Promise<DeadManSwitch> {
    if (typeof options !== 'object' || options === null) throw new QuantEnergxError('INVALID_PAYLOAD', 'deadManSwitch({timeoutMs, every?})', { field: 'timeoutMs' });
    const { timeoutMs } = options;
    if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs <= 0) {
      throw new QuantEnergxError('INVALID_PAYLOAD', `deadManSwitch: timeoutMs must be a whole number of milliseconds above 0, got ${String(timeoutMs)}`, { field: 'timeoutMs' });
    }
    const every = options.every ?? Math.floor(timeoutMs / 3);
    if (typeof every !== 'number' || !Number.isFinite(every) || every < 50 || every >= timeoutMs) {
      throw new QuantEnergxError('INVALID_PAYLOAD', `deadManSwitch: every must be at least 50 ms and less than timeoutMs (${timeoutMs}), got ${String(every)}`, { field: 'every' });
    }
    // one switch per client (the deadline is the user's): a new one replaces the old, which stops re-arming
    this.deadMan?.halt();
    const deadMan = new DeadMan(timeoutMs, every, (ms, opts) => this.orders().cancelAllAfter(ms, opts), options.onError ?? ((err) => this.ctx.report(err)));
    this.deadMan = deadMan;
    try {
      await deadMan.start();
    } catch (err) {
      if (this.deadMan === deadMan) this.deadMan = null;
      throw err;
    }
    return deadMan;
  }

  /** The client is closing: stop re-arming (nothing can be sent any more; the last deadline stands). */
  close(): void {
    this.deadMan?.halt();
    this.deadMan = null;
  }

  private track(request: Promise<unknown>): void {
    const settled = request.then(
      () => undefined,
      () => undefined,
    );
    this.changing = settled;
    void settled.then(() => {
      if (this.changing === settled) this.changing = null;
    });
  }
}

type Arm = (timeoutMs: number, options?: RequestOptions) => Promise<CancelAllAfterAck>;

class DeadMan implements DeadManSwitch {
  firesAt: string | null = null;
  arms = 0;
  active = true;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** the arm in flight, if any: arms never overlap, and a disarm waits for it */
  private inFlight: Promise<void> | null = null;
  private again = false;

  constructor(
    readonly timeoutMs: number,
    readonly every: number,
    private readonly send: Arm,
    private readonly onError: (error: QuantEnergxError) => void,
  ) {}

  /** The first arm: its refusal (a timeout out of range, say) rejects and stops the switch. */
  async start(): Promise<void> {
    try {
      this.armed(await this.send(this.timeoutMs));
    } catch (err) {
      this.halt();
      throw toQuantEnergxError(err);
    }
    this.schedule();
  }

  rearmNow(): void {
    if (!this.active) return;
    if (this.inFlight) {
      this.again = true; // right after the one in flight
      return;
    }
    this.arm();
  }

  halt(): void {
    this.active = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  async stop(options: RequestOptions & { disarm?: boolean } = {}): Promise<void> {
    const wasActive = this.active;
    this.halt();
    await this.inFlight;
    if ((options.disarm ?? true) && (wasActive || this.firesAt !== null)) this.armed(await this.send(0, options));
  }

  private armed(ack: CancelAllAfterAck): void {
    this.firesAt = ack.firesAt;
    if (ack.timeoutMs > 0) this.arms++;
  }

  private schedule(): void {
    if (!this.active) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.arm();
    }, this.every);
  }

  private arm(): void {
    if (!this.active) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.inFlight = this.send(this.timeoutMs)
      .then(
        (ack) => {
          if (this.active) this.armed(ack);
        },
        (err: unknown) => {
          if (this.active) this.onError(toQuantEnergxError(err));
        },
      )
      .finally(() => {
        this.inFlight = null;
        if (this.again && this.active) {
          this.again = false;
          this.arm();
        } else this.schedule();
      });
  }
}
