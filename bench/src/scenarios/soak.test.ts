/**
 * The soak at its tiny size (half a minute per deployment, a tiny load): one process always, the
 * cluster when redis-server, PostgreSQL and the built gateway are there (required when CI=true).
 * Checks that the report has what the issue asks: per server process the series and slopes, the
 * first/last p99, and the invariants with nothing lost.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterInfraMissing } from '../cluster/infra.js';
import { gatewayBuilt } from '../targets/start-target.js';
import type { ScenarioContext } from './scenario.js';
import { soak, type SoakRun } from './soak.js';

const context: ScenarioContext = {
  mode: 'tiny',
  runs: 1,
  targets: ['gateway'],
  clients: null,
  rate: null,
  minutes: null,
  resultsDir: null,
  log: () => undefined,
};

test('soak --tiny: series, slopes and p99 windows per server process; every order and private seq accounted for', { timeout: 420_000 }, async (t) => {
  if (!gatewayBuilt()) {
    if (process.env['CI'] === 'true') throw new Error('the soak needs the built gateway in CI');
    t.skip('the gateway is not built (npm run build)');
    return;
  }
  const clusterMissing = await clusterInfraMissing();
  if (clusterMissing !== null && process.env['CI'] === 'true') throw new Error(`the soak's cluster part needs Redis and PostgreSQL in CI: ${clusterMissing}`);
  const report = await soak.run(context);
  const { runs } = report.data as { runs: SoakRun[] };
  assert.deepEqual(
    runs.map((r) => r.deployment),
    clusterMissing === null ? ['one process', 'cluster'] : ['one process'],
  );
  for (const run of runs) {
    const what = run.deployment;
    assert.ok(run.samples.length >= 3, `${what}: sampled over the run (${run.samples.length})`);
    assert.equal(run.processes.length, run.deployment === 'cluster' ? 4 : 1, `${what}: 2 gateways + 2 engines, or the one process`);
    for (const p of run.processes) {
      const series = run.samples.map((s) => s.processes[p.name] ?? null);
      assert.ok(series.every((s) => s !== null && s.rss > 0 && s.fds > 0 && s.handles > 0 && s.lagP99 >= 0), `${what} ${p.name}: every scrape has RSS, fds, handles, lag`);
      // the gauge is 0 until the process's first major GC: in half a minute a quiet standby engine, and on
      // Node 24 (a larger young generation) even the loaded one process, may run none
      assert.ok(
        series.every((s) => s !== null && (s.majorGcs > 0) === (s.heapAfterGc > 0)),
        `${what} ${p.name}: qx_heap_after_gc_bytes is set exactly once a major GC has run`,
      );
      assert.ok(Number.isFinite(p.rssSlopeMiBPerHour), `${what} ${p.name}: RSS slope`);
      assert.equal(typeof p.heapSlopeMiBPerHour, 'number');
      assert.ok(p.afterClose && p.afterClose.rssMiB > 0, `${what} ${p.name}: memory after every socket closed`);
    }
    assert.ok(run.probeP99FirstMs > 0 && run.probeP99LastMs > 0, `${what}: probe p99 in both windows`);
    assert.ok(run.orderP99FirstMs > 0 && run.orderP99LastMs > 0, `${what}: order p99 in both windows`);
    assert.ok(run.verdict.accepted > 0 && run.verdict.filledOrders > 0 && run.verdict.fills > 0, `${what}: crossing orders accepted and filled`);
    assert.ok(run.verdict.privateSeqs > 0);
    assert.ok(run.reconnects.traders.dropped > 0 && run.traders.resumed > 0, `${what}: traders dropped and resumed`);
    assert.ok(run.traders.refreshOk > 0, `${what}: a token refreshed`);
    assert.equal(run.lost, 0, `${what}: nothing lost: ${JSON.stringify(run.verdict)}`);
  }
  assert.equal(report.tables.length, 2);
});
