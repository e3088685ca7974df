import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tracingSettings } from './settings.js';

test('traces are off unless an OTLP endpoint is set (empty counts as unset)', () => {
  assert.deepEqual(tracingSettings({}), { enabled: false });
  assert.deepEqual(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '  ', OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' }), { enabled: false });
});

test('the general endpoint gets /v1/traces; the traces-only endpoint is used as given and wins', () => {
  assert.deepEqual(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }), { enabled: true, endpoint: 'http://collector:4318/v1/traces', warnings: [] });
  assert.deepEqual(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://jaeger:4318/v1/traces' }), {
    enabled: true,
    endpoint: 'https://jaeger:4318/v1/traces',
    warnings: [],
  });
});

test('OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none turn traces off even with an endpoint', () => {
  const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
  assert.deepEqual(tracingSettings({ ...endpoint, OTEL_SDK_DISABLED: 'TRUE' }), { enabled: false });
  assert.deepEqual(tracingSettings({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }), { enabled: false });
  assert.equal(tracingSettings({ ...endpoint, OTEL_SDK_DISABLED: 'false', OTEL_TRACES_EXPORTER: 'otlp' }).enabled, true);
});

test('a bad endpoint or exporter is an error naming the variable; another protocol than http/json is a warning', () => {
  assert.deepEqual(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }), { enabled: false, errors: ['OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL (got collector:4318)'] });
  assert.deepEqual(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'zipkin' }), { enabled: false, errors: ['OTEL_TRACES_EXPORTER=zipkin: only otlp (or none) is supported'] });
  const grpc = tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
  assert.equal(grpc.enabled, true);
  assert.match((grpc as { warnings: string[] }).warnings[0]!, /OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported/);
});
