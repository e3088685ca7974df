/** What every scenario gets and gives back. */
import type { Cell } from '../lib/table.js';
import type { TargetName } from '../targets/target.js';

export type Mode = 'tiny' | 'quick' | 'full';

export interface ScenarioContext {
  mode: Mode;
  /** repetitions per cell; rows report the median */
  runs: number;
  targets: TargetName[];
  /** overrides from the command line (`--clients 1000,5000`, `--rate 100`, …) */
  clients: number[] | null;
  rate: number | null;
  /** `--minutes` (the soak's length) */
  minutes?: number | null;
  /** where JSON and .hgrm files go (null: do not write) */
  resultsDir: string | null;
  log: (line: string) => void;
}

export interface Table {
  title: string;
  columns: string[];
  rows: Cell[][];
}

export interface ScenarioReport {
  scenario: string;
  tables: Table[];
  /** everything measured, for the JSON file */
  data: unknown;
}

export interface Scenario {
  name: string;
  description: string;
  run(context: ScenarioContext): Promise<ScenarioReport>;
}

/** Clients per worker process: well under the 20,000-fd limit. */
export const PER_PROCESS = 5000;
