/**
 * A real OTLP/HTTP trace receiver for tests: an HTTP server on port 0 that accepts
 * `POST /v1/traces` with an OTLP JSON body (ExportTraceServiceRequest; gzip when the exporter
 * compresses), answers as a Collector does, and keeps every span it was sent, decoded, with the
 * attributes of its resource.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export type AttributeValue = string | number | boolean | null;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer */
  kind: number;
  /** epoch ms (from the nanoseconds OTLP carries) */
  start: number;
  end: number;
  attributes: Record<string, AttributeValue>;
  /** OTLP status code: 0 unset, 1 ok, 2 error */
  status: number;
  resource: Record<string, AttributeValue>;
}

export const SpanKinds = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

export interface OtlpReceiver {
  /** what OTEL_EXPORTER_OTLP_ENDPOINT is set to (the exporter adds /v1/traces) */
  url: string;
  spans: ReceivedSpan[];
  /** export requests received (any path) */
  requests: number;
  /** the spans of one trace */
  trace(traceId: string): ReceivedSpan[];
  close(): Promise<void>;
}

interface KeyValue {
  key: string;
  value?: { stringValue?: string; intValue?: number | string; doubleValue?: number; boolValue?: boolean };
}

function attributes(list: KeyValue[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const { key, value } of list ?? []) {
    if (!value) out[key] = null;
    else if (value.stringValue !== undefined) out[key] = value.stringValue;
    else if (value.intValue !== undefined) out[key] = Number(value.intValue);
    else if (value.doubleValue !== undefined) out[key] = value.doubleValue;
    else if (value.boolValue !== undefined) out[key] = value.boolValue;
    else out[key] = null;
  }
  return out;
}

/** OTLP/JSON ids are hex; a byte array base64-encoded is turned to hex too. */
function hexId(id: string | undefined): string {
  if (!id) return '';
  return /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
}

const nanosToMs = (ns: string | number | undefined): number => Number(BigInt(ns ?? 0) / 1000n) / 1000;

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

/** Listens on 127.0.0.1, on `port` (default: any free one); rejects when the port is taken. */
export async function startOtlpReceiver(port = 0): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const receiver: OtlpReceiver = {
    url: '',
    spans,
    requests: 0,
    trace: (traceId) => spans.filter((s) => s.traceId === traceId),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = createServer((req, res) => {
    receiver.requests++;
    if (req.method !== 'POST' || req.url !== '/v1/traces') {
      res.writeHead(404).end();
      return;
    }
    if (!String(req.headers['content-type']).startsWith('application/json')) {
      res.writeHead(415).end();
      return;
    }
    body(req)
      .then((raw) => {
        const request = JSON.parse(raw.toString('utf8')) as {
          resourceSpans?: {
            resource?: { attributes?: KeyValue[] };
            scopeSpans?: {
              spans?: {
                traceId?: string;
                spanId?: string;
                parentSpanId?: string;
                name: string;
                kind?: number;
                startTimeUnixNano?: string;
                endTimeUnixNano?: string;
                attributes?: KeyValue[];
                status?: { code?: number };
              }[];
            }[];
          }[];
        };
        for (const rs of request.resourceSpans ?? []) {
          const resource = attributes(rs.resource?.attributes);
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              spans.push({
                traceId: hexId(s.traceId),
                spanId: hexId(s.spanId),
                parentSpanId: hexId(s.parentSpanId),
                name: s.name,
                kind: s.kind ?? 0,
                start: nanosToMs(s.startTimeUnixNano),
                end: nanosToMs(s.endTimeUnixNano),
                attributes: attributes(s.attributes),
                status: s.status?.code ?? 0,
                resource,
              });
            }
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      })
      .catch(() => res.writeHead(400).end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}

/**
 * Waits (bounded) until the receiver holds the trace whose root span is `root` for order
 * `orderId` with a span of each of `names`; returns the trace's spans.
 */
export async function orderTrace(receiver: OtlpReceiver, root: string, orderId: string, names: readonly string[], ms = 10_000): Promise<ReceivedSpan[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const top = receiver.spans.find((s) => s.name === root && s.parentSpanId === '' && s.attributes['qx.order.id'] === orderId);
    const spans = top ? receiver.trace(top.traceId) : [];
    if (top && names.every((n) => spans.some((s) => s.name === n))) return spans;
    if (Date.now() > deadline) {
      const seen = spans.map((s) => s.name).join(', ') || `no ${root} span for ${orderId}`;
      throw new Error(`timed out waiting for the trace of ${orderId} (${root} → ${names.join(', ')}); it has: ${seen}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The one span of `spans` named `name`, and its parent's name, for parent/child assertions. */
export function span(spans: readonly ReceivedSpan[], name: string): ReceivedSpan & { parent: string | null } {
  const found = spans.filter((s) => s.name === name);
  if (found.length !== 1) throw new Error(`expected one ${name} span in the trace, got ${found.length}: ${spans.map((s) => s.name).join(', ')}`);
  const s = found[0]!;
  return { ...s, parent: spans.find((p) => p.spanId === s.parentSpanId)?.name ?? null };
}
