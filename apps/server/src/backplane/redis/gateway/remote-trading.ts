/**
 * A gateway's trading core: the engine leader, reached through the command queue. A command that
 * gets no answer within ENGINE_TIMEOUT_MS is `ENGINE_UNAVAILABLE`; it carries a deadline before
 * that timeout, and the engine drops it once passed, so an order answered 503 never executes later.
 */
import type { Logger } from 'pino';
import type { BookView, PositionView } from '@qx/engine';
import { ErrorCode, type CancelOnDisconnectScope, type MarketStatusPayload, type OrderAmendBody, type OrderRequestBody, type WireError } from '@qx/protocol';
import type { OrderOrigin } from '../../../core/trading-service.js';
import type { CancelAllOutcome, Outcome, SubmitOutcome } from '../../../core/outcomes.js';
import type { Published, PublishItem } from '../../../core/event-committer.js';
import type { KillSwitchOutcome, PathTimes, TradingApi, Unavailable } from '../../backplane.js';
import { wallClock } from '../../../core/wall-clock.js';
import { EngineCommandError, type CommandQueue, type EngineCommand } from '../shared/command-queue.js';

const UNAVAILABLE: Unavailable = { unavailable: true };

export function engineUnavailable(): WireError {
  return { code: 'ENGINE_UNAVAILABLE', message: ErrorCode.ENGINE_UNAVAILABLE.message };
}

export class RemoteTrading implements TradingApi {
  constructor(
    private readonly commands: CommandQueue,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  async submit(userId: string, body: OrderRequestBody, times?: PathTimes, origin?: OrderOrigin): Promise<SubmitOutcome> {
    return this.order({ type: 'submit-order', userId, body, times: queued(times), ...(origin ? { origin } : {}) });
  }

  async cancel(userId: string, orderId: string, times?: PathTimes): Promise<SubmitOutcome> {
    return this.order({ type: 'cancel-order', userId, orderId, times: queued(times) });
  }

  async amend(userId: string, orderId: string, body: OrderAmendBody, times?: PathTimes): Promise<SubmitOutcome> {
    return this.order({ type: 'amend-order', userId, orderId, body, times: queued(times) });
  }

  /**
   * Publishes events through the engine leader, which numbers market data: resolves with what was
   * published, or rejects (the engine could not be reached in time, or refused them).
   */
  async publish(items: readonly PublishItem[]): Promise<Published[]> {
    const reply = await this.ask({ type: 'publish', items: [...items] });
    if (reply === UNAVAILABLE || !Array.isArray(reply)) throw new EngineCommandError('the engine did not publish the events', 'ENGINE_UNAVAILABLE');
    return reply as Published[];
  }

  async flatten(userId: string, commodity: string, clientOrderId?: string): Promise<SubmitOutcome> {
    return this.order({ type: 'flatten', userId, commodity, ...(clientOrderId === undefined ? {} : { clientOrderId }) });
  }

  async cancelAll(userId: string, commodity?: string): Promise<CancelAllOutcome> {
    return (await this.order({ type: 'cancel-all', userId, ...(commodity === undefined ? {} : { commodity }) })) as unknown as CancelAllOutcome;
  }

  async positions(userId: string): Promise<PositionView[] | Unavailable> {
    const reply = await this.ask({ type: 'positions', userId });
    return Array.isArray(reply) ? (reply as PositionView[]) : UNAVAILABLE;
  }

  async book(commodity: string, depth: number): Promise<BookView | null | Unavailable> {
    const reply = await this.ask({ type: 'book', commodity, depth });
    if (reply === null) return null;
    return typeof reply === 'object' && reply !== UNAVAILABLE ? (reply as BookView) : UNAVAILABLE;
  }

  setCancelOnDisconnect(userId: string, connection: string, node: string, scope: CancelOnDisconnectScope): Promise<Outcome<{ scope: CancelOnDisconnectScope }>> {
    return this.outcome({ type: 'cancel-on-disconnect', userId, connection, node, scope });
  }

  /** Told until the engine has heard it (or a minute has passed): a loss it never hears would never cancel anything. */
  async connectionLost(connection: string): Promise<void> {
    await this.untilHeard({ type: 'connection-lost', connection });
  }

  async connectionRestored(connection: string, node: string): Promise<void> {
    await this.untilHeard({ type: 'connection-restored', connection, node });
  }

  cancelAllAfter(userId: string, timeoutMs: number): Promise<Outcome<{ timeoutMs: number; firesAt: number | null }>> {
    return this.outcome({ type: 'cancel-all-after', userId, timeoutMs });
  }

  setTradingEnabled(userId: string, enabled: boolean, reason: string, by: string): Promise<Outcome<KillSwitchOutcome>> {
    return this.outcome({ type: 'trading-control', userId, enabled, reason, by });
  }

  halt(commodity: string, reason: string, durationMs: number | null, by: string): Promise<Outcome<{ status: MarketStatusPayload }>> {
    return this.outcome({ type: 'halt', commodity, reason, durationMs, by });
  }

  reopen(commodity: string, by: string): Promise<Outcome<{ status: MarketStatusPayload }>> {
    return this.outcome({ type: 'reopen', commodity, by });
  }

  private async untilHeard(command: EngineCommand): Promise<void> {
    for (let attempt = 0, deadline = Date.now() + 60_000; Date.now() < deadline; attempt++) {
      if ((await this.ask(command)) !== UNAVAILABLE) return;
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
    }
    this.logger.error({ command: command.type }, 'the engine could not be told: cancel-on-disconnect may not follow this connection');
  }

  /** The engine's coded answer, or ENGINE_UNAVAILABLE. */
  private async outcome<T>(command: EngineCommand): Promise<Outcome<T>> {
    return await this.order(command);
  }

  private async order(command: EngineCommand): Promise<SubmitOutcome> {
    const reply = await this.ask(command);
    if (reply === UNAVAILABLE) return { ok: false, error: engineUnavailable() };
    if (typeof reply === 'object' && reply !== null && typeof (reply as { ok?: unknown }).ok === 'boolean') return reply as SubmitOutcome;
    this.logger.error({ reply, command: command.type }, 'engine answered something that is not an order outcome');
    return { ok: false, error: { code: 'INTERNAL', message: ErrorCode.INTERNAL.message } };
  }

  /** The engine's reply, or UNAVAILABLE when it did not answer in time or refused as non-leader. */
  private async ask(command: EngineCommand): Promise<unknown> {
    try {
      const reply = await this.commands.send(command, { timeoutMs: this.timeoutMs });
      return reply === 'timeout' ? UNAVAILABLE : reply;
    } catch (err) {
      if (err instanceof EngineCommandError && err.code === 'ENGINE_UNAVAILABLE') return UNAVAILABLE;
      this.logger.error({ err, command: command.type }, 'engine command failed');
      return UNAVAILABLE;
    }
  }
}

/** The request handed to the engine now: on the command queue. */
function queued(times: PathTimes | undefined): PathTimes | undefined {
  return times ? { ...times, queuedAt: wallClock() } : undefined;
}
