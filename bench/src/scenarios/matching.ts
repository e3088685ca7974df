/**
 * Scenario 5, matching: order-book operations per second (mixed add/cancel/match), in process,
 * from the engine's own `benchMatching({operations, seed, through})`, through the bare OrderBook
 * and through the full Exchange path. Reports n/a while the engine lacks it.
 */
import { median, round } from '../lib/stats.js';
import type { Cell } from '../lib/table.js';
import type { Scenario, ScenarioContext, ScenarioReport } from './scenario.js';

const OPERATIONS = { tiny: 10_000, quick: 300_000, full: 2_000_000 } as const;
const PATHS = ['book', 'exchange'] as const;
const TARGET_OPS = 1_000_000;
const ENGINE = '@qx/engine';

type BenchMatching = (options: { operations: number; seed: number; through: (typeof PATHS)[number] }) => { opsPerSecond: number };

async function loadBenchMatching(): Promise<BenchMatching | null> {
  try {
    // a variable specifier keeps the bench independent of the engine's build
    const engine = (await import(ENGINE)) as Record<string, unknown>;
    return typeof engine.benchMatching === 'function' ? (engine.benchMatching as BenchMatching) : null;
  } catch {
    return null;
  }
}

export const matching: Scenario = {
  name: 'matching',
  description: 'order-book operations per second (mixed add/cancel/match), in process',
  async run(context: ScenarioContext): Promise<ScenarioReport> {
    const operations = OPERATIONS[context.mode];
    const bench = await loadBenchMatching();
    const repetitions = Math.max(3, context.runs);
    const results: Record<string, number[]> = {};
    const rows: Cell[][] = [];
    for (const through of PATHS) {
      const runs: number[] = [];
      if (bench) {
        bench({ operations: Math.min(operations, 100_000), seed: 0, through }); // warm-up (JIT)
        for (let i = 1; i <= repetitions; i++) {
          const { opsPerSecond } = bench({ operations, seed: i, through });
          runs.push(opsPerSecond);
          context.log(`  matching ${through} run ${i}: ${Math.round(opsPerSecond).toLocaleString('en-US')} ops/s`);
        }
      }
      results[through] = runs;
      const ops = bench ? round(median(runs), 0) : Number.NaN;
      rows.push([through, operations, ops, bench ? (ops >= TARGET_OPS ? 'met' : 'missed') : 'n/a']);
    }
    if (!bench) context.log('  matching: n/a (packages/engine does not export benchMatching)');
    return {
      scenario: 'matching',
      tables: [
        {
          title: `Matching, in process (median of ${bench ? repetitions : 0} run(s) of ${operations.toLocaleString('en-US')} operations)`,
          columns: ['path', 'operations', 'ops/s', `target ≥ ${TARGET_OPS.toLocaleString('en-US')}`],
          rows,
        },
      ],
      data: { operations, runs: results, available: bench !== null },
    };
  },
};
