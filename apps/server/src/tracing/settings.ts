/**
 * Whether traces are exported, from the standard OpenTelemetry variables (main.ts passes
 * process.env): on when an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT, or the traces-only
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), unless OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none.
 * Everything else (headers, timeout, sampler, batching, service name) the SDK reads itself.
 */

export type TracingSettings =
  | { enabled: false }
  | { enabled: true; endpoint: string; warnings: string[] }
  | { enabled: false; errors: string[] };

export function tracingSettings(env: Record<string, string | undefined>): TracingSettings {
  const value = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const tracesEndpoint = value('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const endpoint = value('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (tracesEndpoint === undefined && endpoint === undefined) return { enabled: false };
  if (value('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return { enabled: false };
  // OTEL_TRACES_EXPORTER lists exporters; this server has one (otlp)
  const exporters = value('OTEL_TRACES_EXPORTER')?.toLowerCase().split(',').map((e) => e.trim());
  if (exporters?.includes('none')) return { enabled: false };

  const errors: string[] = [];
  const warnings: string[] = [];
  for (const [name, url] of [['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', tracesEndpoint], ['OTEL_EXPORTER_OTLP_ENDPOINT', endpoint]] as const) {
    if (url !== undefined && !/^https?:\/\/[^/]/.test(url)) errors.push(`${name} must be an http:// or https:// URL (got ${url})`);
  }
  if (exporters && exporters.some((e) => e !== 'otlp')) errors.push(`OTEL_TRACES_EXPORTER=${exporters.join(',')}: only otlp (or none) is supported`);
  const protocol = value('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? value('OTEL_EXPORTER_OTLP_PROTOCOL');
  if (protocol !== undefined && protocol !== 'http/json') warnings.push(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported: traces are sent as OTLP/HTTP JSON (http/json)`);
  if (errors.length) return { enabled: false, errors };
  // the traces-only endpoint is used as given; the general one gets /v1/traces (as the SDK does)
  const resolved = tracesEndpoint ?? `${endpoint!.replace(/\/+$/, '')}/v1/traces`;
  return { enabled: true, endpoint: resolved, warnings };
}
