/**
 * An order's trace, as the code on its path sees it: one trace per order request, from the
 * gateway that took it, through the command queue (a cluster) and the engine's step (match, commit,
 * publish), to the write of its update on the owner's socket, whichever node that is on.
 *
 * Off unless main.ts installs a tracer (OTEL_EXPORTER_OTLP_ENDPOINT set): then `tracer` is null,
 * every helper here returns at its first line, and nothing of OpenTelemetry is loaded (only
 * tracing/otel.ts imports it, and main.ts loads that module only when traces are on; lint keeps
 * it so). The W3C `traceparent` of the span the next hop belongs under travels in `PathTimes.trace`
 * with the order's times: in the engine command over Redis, and in the bus message's header to the
 * owner's gateway.
 */
import type { OrderResult } from '@qx/engine';
import type { PathTimes } from '../order-path.js';
import type { SubmitOutcome } from '../core/outcomes.js';
import { wallClock } from '../core/wall-clock.js';

/** Where an order request came in. */
export type OrderRequest =
  | { transport: 'http'; method: string; route: string; userId: string; commodity?: string | undefined; orderId?: string | undefined }
  | { transport: 'socket.io'; event: string; userId: string; commodity?: string | undefined; orderId?: string | undefined };

/** What became of a request or a step (each field when known). */
export interface TraceOutcome {
  orderId?: string | undefined;
  commodity?: string | undefined;
  /** the order's status after it (`new`, `filled`, …) */
  status?: string | undefined;
  /** the coded error it was answered with */
  error?: string | undefined;
  /** a REST answer's status code */
  httpStatus?: number | undefined;
}

/** A command of the engine queue, as its spans describe it. */
export interface TracedCommand {
  type: string;
  userId?: string | undefined;
  orderId?: string | undefined;
}

/** One transaction of the committer's group commit. */
export interface CommitBatch {
  /** the committer's count of transactions: the same for every step committed together */
  id: number;
  /** engine steps committed together in it */
  steps: number;
  /** the engine leader's term (a cluster) */
  term?: number | undefined;
}

/** A span in progress. */
export interface TraceSpan {
  /** its W3C traceparent: what the next hop is the child of */
  readonly traceparent: string;
  /** ends it (epoch ms; default now) */
  end(outcome?: TraceOutcome, at?: number): void;
}

/** What tracing/otel.ts implements; every time is epoch ms with sub-ms precision (wallClock). */
export interface OrderTracer {
  /** a gateway took an order request: the root of the order's trace */
  request(request: OrderRequest, at: number): TraceSpan;
  /** a gateway sent a command to the engine leader and waits for its reply (a cluster) */
  commandSent(command: TracedCommand, messageId: string, parent: string): TraceSpan;
  /** the engine leader took a command off the queue and runs it (a cluster) */
  commandReceived(command: TracedCommand, messageId: string, parent: string): TraceSpan;
  /** the engine matched (or refused) the order: from `startedAt` to `endedAt` */
  matched(parent: string, startedAt: number, endedAt: number, outcome: TraceOutcome): void;
  /**
   * the step waited for and was written in one transaction of the group commit (`error`: the code
   * its order was answered with when the store refused it)
   */
  committed(parent: string, queuedAt: number, endedAt: number, batch: CommitBatch, error?: string): void;
  /** the order's update is handed to the bus */
  publishing(parent: string, event: string): TraceSpan;
  /** a cluster's bus wrote the update to Redis (history and channel), in a batch of `events` */
  busWritten(parent: string, startedAt: number, endedAt: number, events: number): void;
  /** the owner's gateway received the update (`deliveredAt`) and wrote it to a socket (`writtenAt`) */
  delivered(parent: string, event: string, deliveredAt: number, writtenAt: number): void;
}

/** The tracer in force (null: traces are off). */
export let tracer: OrderTracer | null = null;

/** main.ts: traces on (or off again with null; tests). */
export function installTracer(t: OrderTracer | null): void {
  tracer = t;
}

/** Starts the root span of an order request and makes it the parent of the hops after it; null when off. */
export function traceRequest(request: OrderRequest, times: PathTimes): TraceSpan | null {
  if (!tracer) return null;
  const span = tracer.request(request, times.receivedAt ?? wallClock());
  times.trace = span.traceparent;
  return span;
}

/** What an order outcome says for its span. */
export function outcomeOf(outcome: SubmitOutcome, httpStatus?: number): TraceOutcome {
  const order = outcome.order;
  return {
    orderId: order?.id,
    commodity: order?.commodity,
    status: order?.status,
    error: outcome.ok ? undefined : outcome.error.code,
    httpStatus,
  };
}

/** The engine's match of an order (its span, when the order is traced). */
export function traceMatch(times: PathTimes | undefined, endedAt: number, result: OrderResult): void {
  if (!tracer || !times?.trace) return;
  const order = result.order;
  tracer.matched(times.trace, times.startedAt ?? endedAt, endedAt, {
    orderId: order?.id,
    commodity: order?.commodity,
    status: order?.status,
    error: result.ok ? undefined : result.error.code,
  });
}

/** A command's reply (an order outcome, or anything else) as its span's outcome. */
export function replyOutcome(reply: unknown): TraceOutcome {
  if (typeof reply !== 'object' || reply === null) return {};
  const r = reply as { ok?: unknown; order?: { id?: unknown; commodity?: unknown; status?: unknown }; error?: { code?: unknown } };
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return { orderId: text(r.order?.id), commodity: text(r.order?.commodity), status: text(r.order?.status), error: r.ok === false ? text(r.error?.code) : undefined };
}

/**
 * Starts the publish span of each traced event (those whose times carry a trace) and makes it the
 * parent of the event's delivery; null when none is traced.
 */
export function tracePublish(events: readonly { event: string; meta?: PathTimes | undefined }[]): TraceSpan[] | null {
  if (!tracer) return null;
  let spans: TraceSpan[] | null = null;
  for (const e of events) {
    if (!e.meta?.trace) continue;
    const span = tracer.publishing(e.meta.trace, e.event);
    e.meta.trace = span.traceparent;
    (spans ??= []).push(span);
  }
  return spans;
}

/** The Redis write of the traced events of a batch the bus published (from `startedAt` to now). */
export function traceBusWrite(batch: readonly { meta?: PathTimes | undefined }[], startedAt: number): void {
  if (!tracer) return;
  const endedAt = wallClock();
  for (const e of batch) if (e.meta?.trace) tracer.busWritten(e.meta.trace, startedAt, endedAt, batch.length);
}

/** The delivery of a traced update to its owner's socket (`path`: the frame's, see realtime/frame.ts). */
export function traceDelivery(event: string, path: { times: PathTimes; deliveredAt: number }, writtenAt: number): void {
  if (!tracer || !path.times.trace) return;
  tracer.delivered(path.times.trace, event, path.deliveredAt, writtenAt);
}

/** W3C traceparent (version 00): what `PathTimes.trace` may hold when it comes from another node. */
export const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
