/**
 * The operator's kit in deploy/: the Prometheus alert rules (`promtool check rules`, and their unit
 * tests with `promtool test rules`), the Grafana dashboard (an importable structure whose queries
 * parse), and that every metric the rules and the dashboard name exists in the /metrics of a single
 * process, a cluster gateway and a cluster engine — so neither can drift from the code. promtool
 * (Debian's `prometheus` package) is required when CI=true; elsewhere its tests skip, saying so.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMetric, startServer } from './helpers.js';
import { startCluster } from './cluster/cluster.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const RULES = join(ROOT, 'deploy/prometheus/alerts.yml');
const RULE_TESTS = join(ROOT, 'deploy/prometheus/alerts.test.yml');
const DASHBOARD = join(ROOT, 'deploy/grafana/quantenergx-realtime.json');

/** promtool's path, or null after skipping the test (a failure when CI=true). */
function promtoolOrSkip(t: TestContext): string | null {
  const found = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (found.status === 0) return 'promtool';
  if (process.env['CI'] === 'true') assert.fail('promtool is required in CI (apt-get install prometheus)');
  t.skip('promtool not installed (Debian: apt-get install prometheus)');
  return null;
}

function promtool(args: string[]): { ok: boolean; output: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000 });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

interface Target {
  refId: string;
  expr: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}
const dashboard = (): { title: string; uid: string; schemaVersion: number; panels: Panel[]; templating: { list: { name: string; type: string; query: unknown }[] } } =>
  JSON.parse(readFileSync(DASHBOARD, 'utf8'));
const queries = (): string[] => dashboard().panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

/** Every qx_ metric a text names (a histogram by its _bucket/_sum/_count, as queries name it). */
const metricNames = (text: string): string[] => [...new Set(text.match(/\bqx_[a-z0-9_]+\b/g) ?? [])].sort();

/** The sample names of a Prometheus text exposition (a histogram's as name_bucket, name_sum, name_count). */
const exposed = (text: string): Set<string> =>
  new Set(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(l)?.[0] ?? ''));

test('alert rules: promtool checks them, and their unit tests pass (each alert fires on its case, not on the case beside it)', (t) => {
  if (!promtoolOrSkip(t)) return;
  const check = promtool(['check', 'rules', RULES]);
  assert.ok(check.ok, check.output);
  assert.match(check.output, /SUCCESS: 12 rules found/);
  const unit = promtool(['test', 'rules', RULE_TESTS]);
  assert.ok(unit.ok, unit.output);
  // every alert of the file has a test that expects it to fire
  const alerts = [...readFileSync(RULES, 'utf8').matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1]);
  const tests = readFileSync(RULE_TESTS, 'utf8');
  for (const alert of alerts) assert.match(tests, new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`), `a test where ${alert} fires`);
});

test('the Grafana dashboard: importable JSON, panels on a 24-column grid without overlap, every query valid PromQL on the chosen Prometheus', (t) => {
  const d = dashboard();
  assert.equal(d.title, 'QuantEnergx Realtime');
  assert.match(d.uid, /^[a-z0-9-]{1,40}$/);
  assert.ok(Number.isInteger(d.schemaVersion));
  // the data source is chosen at import (a variable), never a uid of someone's Grafana
  const datasource = d.templating.list.find((v) => v.name === 'datasource');
  assert.deepEqual([datasource?.type, datasource?.query], ['datasource', 'prometheus']);
  const ids = new Set<number>();
  const cells = new Set<string>();
  for (const p of d.panels) {
    assert.ok(!ids.has(p.id), `panel id ${p.id} is unique`);
    ids.add(p.id);
    assert.ok(p.title, `panel ${p.id} has a title`);
    const { x, y, w, h } = p.gridPos;
    assert.ok(x >= 0 && w > 0 && x + w <= 24 && y >= 0 && h > 0, `${p.title}: on the grid`);
    for (let i = x; i < x + w; i++) {
      for (let j = y; j < y + h; j++) {
        assert.ok(!cells.has(`${i},${j}`), `${p.title} overlaps another panel`);
        cells.add(`${i},${j}`);
      }
    }
    if (p.type === 'row') continue;
    assert.ok(['timeseries', 'stat'].includes(p.type), `${p.title}: ${p.type}`);
    assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, p.title);
    assert.ok(p.targets && p.targets.length > 0, `${p.title} has queries`);
    assert.equal(new Set(p.targets.map((q) => q.refId)).size, p.targets.length, `${p.title}: refIds unique`);
    for (const q of p.targets) assert.ok(q.expr.includes('qx_'), `${p.title}: ${q.expr}`);
  }
  // what the dashboard is for: each of these has a panel
  for (const metric of ['qx_connections', 'qx_events_emitted_total', 'qx_order_path_seconds_bucket', 'qx_events_published_total', 'qx_engine_leader', 'qx_slow_consumer_disconnects_total', 'qx_recoveries_total', 'qx_redis_errors_total', 'qx_postgres_errors_total']) {
    assert.ok(queries().some((q) => q.includes(metric)), `a panel shows ${metric}`);
  }
  // PromQL: promtool parses every query (as a recording rule), Grafana's variables filled in
  if (!promtoolOrSkip(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'qx-dashboard-'));
  try {
    const rules = queries().map((q, i) => `      - record: qx_dashboard_query_${i}\n        expr: ${JSON.stringify(q.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*'))}`);
    writeFileSync(join(dir, 'queries.yml'), `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
    const check = promtool(['check', 'rules', join(dir, 'queries.yml')]);
    assert.ok(check.ok, check.output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every metric the alert rules and the dashboard name exists in /metrics: single process, cluster gateway, cluster engine', { timeout: 180_000 }, async (t) => {
  const named = metricNames(`${readFileSync(RULES, 'utf8')}\n${queries().join('\n')}`);
  assert.ok(named.length >= 20, named.join(' '));
  const seen = new Set<string>();

  // the single process, as `npm start` runs it (SQLite under a data folder)
  const single = await startServer();
  try {
    const text = await (await fetch(`${single.url}/metrics`)).text();
    for (const name of exposed(text)) seen.add(name);
    assert.equal(readMetric(text, 'qx_engine_leader'), 1, 'a single process leads its own engine');
    assert.equal(readMetric(text, 'qx_ready', { role: 'all' }), 1);
    const free = readMetric(text, 'qx_data_dir_free_bytes');
    assert.ok(free > 0 && free <= readMetric(text, 'qx_data_dir_size_bytes'), `free ${free}`);
  } finally {
    await single.close();
  }

  // a gateway and an engine, with their internal endpoints on ADMIN_PORT (where Prometheus scrapes)
  const cluster = await startCluster(t, { gateways: 0, engines: 0 });
  if (cluster) {
    const engine = await cluster.startEngine(undefined, { ADMIN_PORT: '0' });
    const gateway = await cluster.startGateway(undefined, { ADMIN_PORT: '0' });
    assert.equal(await cluster.leader(), engine);
    for (const node of [engine, gateway]) {
      assert.ok(node.adminUrl, `${node.name} serves its internal endpoints on ADMIN_PORT`);
      // scraped first, before anything below makes the node count an error
      const text = await (await fetch(`${node.adminUrl}/metrics`)).text();
      for (const name of exposed(text)) seen.add(name);
      // off the public port
      for (const path of ['/metrics', '/health', '/ready']) assert.equal((await fetch(`${node.url}${path}`)).status, 404, `${node.name} public ${path}`);
      const health = (await (await fetch(`${node.adminUrl}/health`)).json()) as { status: string; role: string; nodeId: string };
      assert.deepEqual([health.status, health.role, health.nodeId], ['ok', node.role, node.name]);
      if (node === engine) {
        assert.equal(readMetric(text, 'qx_engine_leader'), 1, 'the engine leads');
        assert.equal(readMetric(text, 'qx_ready', { role: 'engine' }), 1);
      } else {
        assert.ok(!exposed(text).has('qx_engine_leader'), 'a gateway runs no engine');
        assert.equal(readMetric(text, 'qx_ready', { role: 'gateway' }), 1);
      }
    }
    // the gateway's public port still serves the API
    assert.equal((await cluster.http(gateway.url, '/api/v1/market/commodities', { token: await cluster.sign('operator') })).status, 200);
  } else {
    t.diagnostic('the cluster part was skipped: checked against the single process only');
  }

  const missing = named.filter((name) => !seen.has(name));
  assert.deepEqual(missing, [], `named in deploy/ but exposed by no node: ${missing.join(', ')}`);
});
