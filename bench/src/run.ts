#!/usr/bin/env node
/**
 * The bench CLI.
 *
 *   node bench/dist/run.js                      quick run of every scenario (< 3 minutes)
 *   node bench/dist/run.js --full               full run: bigger sizes, longer windows, 3 runs
 *   node bench/dist/run.js --scenario fanout    one scenario (comma-separated list allowed)
 *   node bench/dist/run.js --scenario soak --minutes 30   the soak (only when named; --tiny: a short one)
 *   options: --runs N, --targets gateway,raw-ws,plain-socketio, --clients 1000,5000,
 *            --rate 100 (updates/s), --no-write, --list
 */
import { parseArgs } from 'node:util';
import { machineInfo, writeResult } from './lib/results.js';
import { resultsDir } from './lib/paths.js';
import { renderTable } from './lib/table.js';
import { ON_REQUEST, SCENARIOS } from './scenarios/index.js';
import type { Mode, ScenarioContext } from './scenarios/scenario.js';
import { gatewayBuilt } from './targets/start-target.js';
import { TARGET_NAMES, isTargetName, type TargetName } from './targets/target.js';

const HARD_LIMIT_MS = { tiny: 2 * 60_000, quick: 5 * 60_000, full: 90 * 60_000 } as const;
const CLUSTER_EXTRA_MS = { tiny: 2 * 60_000, quick: 10 * 60_000 } as const;

function numberList(value: string | undefined): number[] | null {
  if (!value) return null;
  const list = value.split(',').map(Number);
  if (list.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`not a list of positive integers: ${value}`);
  return list;
}

function targetsFrom(value: string | undefined): TargetName[] {
  if (value) {
    const list = value.split(',');
    const unknown = list.filter((t) => !isTargetName(t));
    if (unknown.length > 0) throw new Error(`unknown target(s): ${unknown.join(', ')} (known: ${TARGET_NAMES.join(', ')})`);
    return list as TargetName[];
  }
  // the gateway first, when built; the baselines always
  return TARGET_NAMES.filter((t) => t !== 'gateway' || gatewayBuilt());
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      full: { type: 'boolean', default: false },
      tiny: { type: 'boolean', default: false },
      scenario: { type: 'string' },
      runs: { type: 'string' },
      targets: { type: 'string' },
      clients: { type: 'string' },
      rate: { type: 'string' },
      minutes: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
    },
  });
  if (values.list) {
    for (const s of [...SCENARIOS, ...ON_REQUEST]) console.log(`${s.name.padEnd(14)} ${s.description}`);
    return;
  }
  const mode: Mode = values.full ? 'full' : values.tiny ? 'tiny' : 'quick';
  const names = values.scenario?.split(',') ?? SCENARIOS.map((s) => s.name);
  const selected = names.map((n) => {
    const s = [...SCENARIOS, ...ON_REQUEST].find((x) => x.name === n);
    if (!s) throw new Error(`unknown scenario ${n} (known: ${[...SCENARIOS, ...ON_REQUEST].map((x) => x.name).join(', ')})`);
    return s;
  });
  const context: ScenarioContext = {
    mode,
    runs: values.runs ? Number(values.runs) : mode === 'full' ? 3 : 1,
    targets: targetsFrom(values.targets),
    clients: numberList(values.clients),
    rate: values.rate ? Number(values.rate) : null,
    minutes: values.minutes ? Number(values.minutes) : null,
    resultsDir: values['no-write'] ? null : resultsDir,
    log: (line) => console.log(line),
  };
  // the limit grows with the runs asked for (quick mode is sized for one run)
  // and with each cluster scenario asked for (they start a cluster per cell)
  const clusterScenarios = selected.filter((s) => s.name === 'cluster' || s.name === 'failover').length;
  const base = mode === 'quick' ? HARD_LIMIT_MS.quick * context.runs : HARD_LIMIT_MS[mode];
  // the soak runs its minutes twice (one process, then the cluster), plus set-up and the checks
  const soakMs = selected.some((s) => s.name === 'soak') ? 2 * ((context.minutes ?? (mode === 'tiny' ? 0.5 : 30)) * 60_000 + 5 * 60_000) : 0;
  const hardLimitMs = base + soakMs + (mode === 'full' ? 0 : clusterScenarios * context.runs * CLUSTER_EXTRA_MS[mode]);
  setTimeout(() => {
    console.error(`bench: hard time limit of ${hardLimitMs / 1000} s reached; stopping`);
    process.exit(2);
  }, hardLimitMs).unref();

  const machine = machineInfo();
  console.log(`bench ${mode}: ${machine.cpus}× ${machine.cpuModel}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}`);
  console.log(`targets: ${context.targets.join(', ')}${gatewayBuilt() ? '' : ' (gateway not built: apps/server/dist/main.js missing)'}`);
  const started = performance.now();
  for (const scenario of selected) {
    console.log(`\n== ${scenario.name}: ${scenario.description}`);
    const report = await scenario.run(context);
    for (const t of report.tables) console.log(renderTable(t.title, t.columns, t.rows));
    if (context.resultsDir) {
      const file = writeResult(`${scenario.name}-${mode}`, { machine, mode, runs: context.runs, command: process.argv.slice(2), ...report }, context.resultsDir);
      console.log(`\nwritten: ${file}`);
    }
  }
  console.log(`\nbench done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
