/**
 * The resume storm alone: a cluster of 3 gateways and an engine; gateway 1 holds N sockets that
 * follow their orders while private events stream to them through gateway 2; kill -9 of gateway 1
 * → when the first and the last socket resumed on a survivor, and how many private events never
 * arrived (must be 0). A fresh cluster per run; `--clients` sets N, `--runs` the repetitions.
 */
import { median, round } from '../lib/stats.js';
import type { Cell } from '../lib/table.js';
import { clusterInfraMissing } from '../cluster/infra.js';
import { startCluster } from '../cluster/start-cluster.js';
import { gatewayBuilt } from '../targets/start-target.js';
import { gatewayKill, type GatewayKill } from './failover.js';
import type { Scenario, ScenarioContext, ScenarioReport } from './scenario.js';

const SOCKETS = { tiny: 30, quick: 1000, full: 5000 } as const;
/**
 * Clients per load process: the killed gateway's clients come back from many machines at once; in
 * one process, each would wait for the others' handshakes on the client side too.
 */
const PER_PROCESS = 1000;
const PRIVATE_RATE = { tiny: 30, quick: 100, full: 200 } as const;
/** the targets: first socket resumed within 1 s, every one within 5 s of the kill */
const FIRST_TARGET_MS = 1000;
const ALL_TARGET_MS = 5000;

export interface StormRow {
  sockets: number;
  runs: GatewayKill[];
  firstLostMs: number;
  firstResumedMs: number;
  allResumedMs: number;
  privateLost: number;
  duplicates: number;
}

export const resumeStorm: Scenario = {
  name: 'resume-storm',
  description: 'gateway kill -9 with N sockets → first and last resumed on the survivors, private events lost',
  async run(context: ScenarioContext): Promise<ScenarioReport> {
    const missing = await clusterInfraMissing();
    if (missing !== null) {
      context.log(`  skipped: ${missing}`);
      return { scenario: 'resume-storm', tables: [], data: { skipped: missing } };
    }
    if (!gatewayBuilt()) throw new Error('the resume-storm scenario needs the gateway built (npm run build)');
    const rows: StormRow[] = [];
    for (const sockets of context.clients ?? [SOCKETS[context.mode]]) {
      const runs: GatewayKill[] = [];
      for (let run = 1; run <= context.runs; run++) {
        const cluster = await startCluster('cluster', { gateways: 3, engines: 1 });
        try {
          runs.push(await gatewayKill(cluster, { gatewaySockets: sockets, privateRate: context.rate ?? PRIVATE_RATE[context.mode], perProcess: PER_PROCESS }, context));
        } finally {
          await cluster.stop();
        }
      }
      rows.push({
        sockets,
        runs,
        firstLostMs: median(runs.map((r) => r.firstLostMs)),
        firstResumedMs: median(runs.map((r) => r.firstResumedMs)),
        allResumedMs: median(runs.map((r) => r.allResumedMs)),
        privateLost: runs.reduce((s, r) => s + r.privateLost, 0),
        duplicates: runs.reduce((s, r) => s + r.duplicates, 0),
      });
    }
    const table: Cell[][] = rows.map((r) => [
      r.sockets,
      r.firstLostMs,
      r.firstResumedMs,
      r.allResumedMs,
      r.runs.map((x) => `${x.firstResumedMs}/${x.allResumedMs}`).join(' '),
      r.privateLost,
      r.duplicates,
      r.firstResumedMs <= FIRST_TARGET_MS && r.allResumedMs <= ALL_TARGET_MS && r.privateLost === 0 ? 'met' : 'missed',
    ]);
    return {
      scenario: 'resume-storm',
      tables: [
        {
          title: `Resume storm: gateway kill -9 → its sockets resumed on 2 survivors (median of ${context.runs} run(s), each on a fresh cluster)`,
          columns: ['sockets', 'first lost ms', 'first resumed ms', 'all resumed ms', 'per run first/all ms', 'private lost', 'duplicates', `target ≤ ${FIRST_TARGET_MS} / ≤ ${ALL_TARGET_MS} ms, 0 lost`],
          rows: table,
        },
      ],
      data: { rows: rows.map((r) => ({ ...r, firstLostMs: round(r.firstLostMs, 0) })) },
    };
  },
};
