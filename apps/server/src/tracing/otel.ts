/**
 * OpenTelemetry behind the order's trace (tracing/order-tracing.ts): the only module that loads
 * the SDK, and main.ts loads it only when OTEL_EXPORTER_OTLP_ENDPOINT (or the traces-only
 * endpoint) is set. Spans go out in batches over OTLP/HTTP (JSON) to that endpoint — an
 * OpenTelemetry Collector, Jaeger, Tempo… — configured by the standard OTEL_* variables, which the
 * SDK reads itself (endpoint, headers, timeout, OTEL_TRACES_SAMPLER, OTEL_BSP_*, OTEL_SERVICE_NAME,
 * OTEL_RESOURCE_ATTRIBUTES).
 *
 * Attributes follow the semantic conventions where one fits (http.*, messaging.*, user.id,
 * error.type, service.*); the trading domain's are `qx.*`. `user.id` is the plain account id: the
 * operator holds it already (logs, event log), it is what a support ticket names, and a hash of a
 * guessable id would hide nothing; a Collector can hash or drop it before traces leave the
 * operator's hands (docs/operations.md).
 */
import { DiagLogLevel, ROOT_CONTEXT, SpanKind, SpanStatusCode, diag, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { parseTraceParent } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVICE_INSTANCE_ID,
  ATTR_SERVICE_NAME,
} from '@opentelemetry/semantic-conventions';
import type { Logger } from 'pino';
import type { CommitBatch, OrderRequest, OrderTracer, TracedCommand, TraceOutcome, TraceSpan } from './order-tracing.js';
import { wallClock } from '../core/wall-clock.js';

// incubating conventions are copied, not imported (as the semantic-conventions package advises)
const ATTR_USER_ID = 'user.id';
const ATTR_MESSAGING_SYSTEM = 'messaging.system';
const ATTR_MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id';

/** The engine command queue (backplane/redis/shared/command-queue.ts) and the bus. */
const COMMAND_QUEUE = 'qx:engine:commands';

/** Coded errors that are the server's failure, not the client's (span status ERROR). */
const SERVER_ERRORS = new Set(['ENGINE_UNAVAILABLE', 'SERVICE_UNAVAILABLE', 'INTERNAL']);

const SCOPE = 'quantenergx-realtime';

/** The trading domain's attributes of a request, step or outcome. */
function domain(attrs: Attributes, o: { userId?: string | undefined; orderId?: string | undefined; commodity?: string | undefined; status?: string | undefined }): Attributes {
  if (o.userId !== undefined) attrs[ATTR_USER_ID] = o.userId;
  if (o.orderId !== undefined) attrs['qx.order.id'] = o.orderId;
  if (o.commodity !== undefined) attrs['qx.commodity'] = o.commodity;
  if (o.status !== undefined) attrs['qx.order.status'] = o.status;
  return attrs;
}

function traceparentOf(span: Span): string {
  const c = span.spanContext();
  return `00-${c.traceId}-${c.spanId}-${(c.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

function parentContext(traceparent: string): Context {
  const parent = parseTraceParent(traceparent);
  return parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
}

/** Records what came of a span's operation on it, and ends it. */
function finish(span: Span, outcome: TraceOutcome | undefined, at?: number): void {
  if (outcome) {
    span.setAttributes(domain({}, outcome));
    if (outcome.httpStatus !== undefined) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, outcome.httpStatus);
    if (outcome.error !== undefined) {
      span.setAttribute('qx.error.code', outcome.error);
      if (SERVER_ERRORS.has(outcome.error) || (outcome.httpStatus ?? 0) >= 500) {
        span.setAttribute(ATTR_ERROR_TYPE, outcome.error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error });
      }
    }
  }
  // one clock for every time of the trace (the SDK's own default is Date.now(), a whole ms apart at times)
  span.end(at ?? wallClock());
}

class OtelSpan implements TraceSpan {
  readonly traceparent: string;

  constructor(private readonly span: Span) {
    this.traceparent = traceparentOf(span);
  }

  end(outcome?: TraceOutcome, at?: number): void {
    finish(this.span, outcome, at);
  }
}

/** The order's spans on an OpenTelemetry tracer. */
export class OtelOrderTracer implements OrderTracer {
  constructor(private readonly tracer: Tracer) {}

  request(request: OrderRequest, at: number): TraceSpan {
    const attributes = domain({}, request);
    let name: string;
    if (request.transport === 'http') {
      name = `${request.method} ${request.route}`;
      attributes[ATTR_HTTP_REQUEST_METHOD] = request.method;
      attributes[ATTR_HTTP_ROUTE] = request.route;
    } else {
      name = request.event;
      attributes['qx.socket.event'] = request.event;
    }
    return new OtelSpan(this.tracer.startSpan(name, { kind: SpanKind.SERVER, startTime: at, attributes }, ROOT_CONTEXT));
  }

  commandSent(command: TracedCommand, messageId: string, parent: string): TraceSpan {
    return this.command(command, messageId, parent, SpanKind.CLIENT, 'send');
  }

  commandReceived(command: TracedCommand, messageId: string, parent: string): TraceSpan {
    return this.command(command, messageId, parent, SpanKind.SERVER, 'process');
  }

  matched(parent: string, startedAt: number, endedAt: number, outcome: TraceOutcome): void {
    finish(this.tracer.startSpan('match', { kind: SpanKind.INTERNAL, startTime: startedAt }, parentContext(parent)), outcome, endedAt);
  }

  committed(parent: string, queuedAt: number, endedAt: number, batch: CommitBatch, error?: string): void {
    const attributes: Attributes = { 'qx.commit.id': batch.id, 'qx.commit.steps': batch.steps };
    if (batch.term !== undefined) attributes['qx.engine.term'] = batch.term;
    const span = this.tracer.startSpan('commit', { kind: SpanKind.INTERNAL, startTime: queuedAt, attributes }, parentContext(parent));
    finish(span, error === undefined ? undefined : { error }, endedAt);
  }

  publishing(parent: string, event: string): TraceSpan {
    const attributes: Attributes = { 'qx.event': event, [ATTR_MESSAGING_OPERATION_TYPE]: 'send' };
    return new OtelSpan(this.tracer.startSpan(`publish ${event}`, { kind: SpanKind.PRODUCER, startTime: wallClock(), attributes }, parentContext(parent)));
  }

  busWritten(parent: string, startedAt: number, endedAt: number, events: number): void {
    const attributes: Attributes = { [ATTR_DB_SYSTEM_NAME]: 'redis', [ATTR_DB_OPERATION_NAME]: 'EVALSHA', 'qx.bus.events': events };
    this.tracer.startSpan('redis publish', { kind: SpanKind.CLIENT, startTime: startedAt, attributes }, parentContext(parent)).end(endedAt);
  }

  delivered(parent: string, event: string, deliveredAt: number, writtenAt: number): void {
    const attributes: Attributes = { 'qx.event': event, [ATTR_MESSAGING_OPERATION_TYPE]: 'process' };
    this.tracer.startSpan(`deliver ${event}`, { kind: SpanKind.CONSUMER, startTime: deliveredAt, attributes }, parentContext(parent)).end(writtenAt);
  }

  private command(command: TracedCommand, messageId: string, parent: string, kind: SpanKind, operation: string): TraceSpan {
    const attributes = domain(
      {
        [ATTR_MESSAGING_SYSTEM]: 'redis',
        [ATTR_MESSAGING_DESTINATION_NAME]: COMMAND_QUEUE,
        [ATTR_MESSAGING_OPERATION_TYPE]: operation,
        [ATTR_MESSAGING_MESSAGE_ID]: messageId,
        'qx.command': command.type,
      },
      command,
    );
    return new OtelSpan(this.tracer.startSpan(`engine-command ${command.type}`, { kind, startTime: wallClock(), attributes }, parentContext(parent)));
  }
}

export interface TracingOptions {
  /** NODE_ID (service.instance.id and qx.node.id) */
  nodeId: string;
  /** ROLE: all, gateway or engine */
  role: string;
  /** where the SDK's own problems (an export that failed) are logged, at most once a minute */
  logger: Logger;
}

export interface Tracing {
  readonly tracer: OrderTracer;
  /** exports what is still buffered, then stops (bounded: a Collector that is away cannot hold a stop) */
  shutdown(): Promise<void>;
}

const SHUTDOWN_MS = 3000;
const DIAG_EVERY_MS = 60_000;

/** Starts exporting spans as the OTEL_* variables say. */
export function startTracing(options: TracingOptions): Tracing {
  const { logger } = options;
  // the SDK reports through `diag`: a Collector that is down must not flood the log
  let lastDiag = 0;
  const report = (level: 'warn' | 'error') => (message: string, ...args: unknown[]) => {
    const t = Date.now();
    if (t - lastDiag < DIAG_EVERY_MS) return;
    lastDiag = t;
    logger[level]({ part: 'tracing', details: args.map(String) }, `OpenTelemetry: ${message}`);
  };
  const quiet = () => undefined;
  diag.setLogger({ error: report('error'), warn: report('warn'), info: quiet, debug: quiet, verbose: quiet }, DiagLogLevel.WARN);

  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: SCOPE, [ATTR_SERVICE_INSTANCE_ID]: options.nodeId, 'qx.node.id': options.nodeId, 'qx.role': options.role }))
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
  return {
    tracer: new OtelOrderTracer(provider.getTracer(SCOPE)),
    async shutdown() {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          logger.warn({ part: 'tracing' }, 'OpenTelemetry: spans still buffered at the stop were not exported in time');
          resolve();
        }, SHUTDOWN_MS);
      });
      await Promise.race([provider.shutdown().catch((err: unknown) => logger.warn({ err, part: 'tracing' }, 'OpenTelemetry: shutdown failed')), late]);
      clearTimeout(timer);
    },
  };
}
