/**
 * Turns traces on for this process when the settings say so (main.ts): loads OpenTelemetry (only
 * then), installs the order tracer, and returns what flushes and stops it; null when traces are off.
 */
import type { Logger } from 'pino';
import { installTracer } from './order-tracing.js';
import type { TracingSettings } from './settings.js';

export async function setUpTracing(settings: TracingSettings, options: { nodeId: string; role: string; logger: Logger }): Promise<(() => Promise<void>) | null> {
  if (!settings.enabled) return null;
  const { startTracing } = await import('./otel.js');
  const tracing = startTracing(options);
  installTracer(tracing.tracer);
  options.logger.info({ endpoint: settings.endpoint }, 'OpenTelemetry traces exported');
  for (const warning of settings.warnings) options.logger.warn(warning);
  return async () => {
    installTracer(null);
    await tracing.shutdown();
  };
}
