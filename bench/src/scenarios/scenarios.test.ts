/**
 * Benchmarks are not timed tests: this only checks that each scenario runs against both
 * baselines (real servers, real lean clients, the real Socket.IO server for the plain one) at a
 * tiny size and produces sane output.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connections, type ConnectionRow } from './connections.js';
import { fanout, type FanoutRow } from './fanout.js';
import { latency, type LatencyRow } from './latency.js';
import { matching } from './matching.js';
import type { ScenarioContext } from './scenario.js';
import { slowConsumer, type SlowConsumerRow } from './slow-consumer.js';

const context: ScenarioContext = {
  mode: 'tiny',
  runs: 1,
  targets: ['raw-ws', 'plain-socketio'],
  clients: null,
  rate: null,
  resultsDir: null,
  log: () => undefined,
};

test('fanout: every published update reaches every client; CPU per message and latency are measured', async () => {
  const report = await fanout.run(context);
  const { rows } = report.data as { rows: FanoutRow[] };
  assert.equal(rows.length, 2);
  for (const row of rows) {
    assert.ok(row.totalsOk, `${row.target}: deliveries = published × subscribers`);
    assert.ok(row.deliveredPerSec > 0);
    assert.ok(row.serverUsPerMsg > 0, `${row.target}: cpu/msg > 0`);
    assert.ok(row.probeP50Ms > 0 && row.probeP99Ms >= row.probeP50Ms, `${row.target}: latency present`);
  }
});

test('latency: probe percentiles present; private path n/a without an order endpoint', async () => {
  const report = await latency.run(context);
  const { rows } = report.data as { rows: LatencyRow[] };
  for (const row of rows) {
    assert.ok(row.probeSamples > 0);
    assert.ok(row.p50Ms > 0 && row.p999Ms >= row.p99Ms && row.p99Ms >= row.p50Ms);
    assert.equal(row.orders, 'n/a');
  }
});

test('connections: all connect and authenticate; memory is measured', async () => {
  const report = await connections.run(context);
  const { rows } = report.data as { rows: ConnectionRow[] };
  for (const row of rows) {
    assert.equal(row.failed, 0);
    assert.ok(row.perSecond > 0);
    assert.ok(row.rssConnectedMiB > 0);
  }
});

test('slow-consumer: runs and accounts for every private event it published', async () => {
  const report = await slowConsumer.run(context);
  const { rows } = report.data as { rows: SlowConsumerRow[] };
  for (const row of rows) {
    assert.ok(row.privateExpected > 0);
    // the baselines buffer without limit: nothing is dropped, nobody is disconnected
    assert.equal(row.privateReceived, row.privateExpected);
    assert.equal(row.privateGaps, 0);
    assert.equal(row.normalGaps, 0);
    assert.ok(row.stalledCaughtUp);
  }
});

test('matching: reports ops/s, or n/a until the engine exports benchMatching', async () => {
  const report = await matching.run(context);
  const data = report.data as { available: boolean; runs: Record<string, number[]> };
  for (const runs of Object.values(data.runs)) assert.ok(runs.every((ops) => ops > 0));
  if (data.available) assert.ok((data.runs.book ?? []).length >= 3);
});
