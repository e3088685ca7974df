/**
 * Scenario 3, connections and memory: how fast clients connect and authenticate (JWT in the
 * handshake, until `auth-success`), and the server's RSS per idle authenticated connection.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { readRssKiB, sampleProcess } from '../lib/proc-stats.js';
import { median, round } from '../lib/stats.js';
import type { Cell } from '../lib/table.js';
import { ClientGroup } from '../harness/client-group.js';
import { startTarget } from '../targets/start-target.js';
import type { TargetName } from '../targets/target.js';
import { PER_PROCESS, type Scenario, type ScenarioContext, type ScenarioReport } from './scenario.js';

interface Plan {
  connections: number;
  settleMs: number;
  concurrencyPerProcess: number;
}

const PLANS = {
  tiny: { connections: 20, settleMs: 300, concurrencyPerProcess: 10 },
  quick: { connections: 2000, settleMs: 2000, concurrencyPerProcess: 100 },
  full: { connections: 10_000, settleMs: 5000, concurrencyPerProcess: 100 },
} satisfies Record<string, Plan>;

interface ConnectionRun {
  connected: number;
  failed: number;
  errors: Record<string, number>;
  connectMs: number;
  perSecond: number;
  serverCpuUsPerConnect: number;
  rssIdleMiB: number;
  rssConnectedMiB: number;
  kibPerConnection: number;
}

export interface ConnectionRow {
  target: TargetName;
  connections: number;
  perSecond: number;
  serverCpuUsPerConnect: number;
  rssIdleMiB: number;
  rssConnectedMiB: number;
  kibPerConnection: number;
  failed: number;
}

async function runOnce(target: TargetName, plan: Plan, connections: number): Promise<ConnectionRun> {
  const running = await startTarget(target);
  try {
    await sleep(plan.settleMs);
    const idleRss = readRssKiB(running.pid);
    const group = ClientGroup.start(running, {
      role: 'load',
      total: connections,
      perProcess: Math.min(PER_PROCESS, Math.ceil(connections / 2)),
      sourceBase: 10,
      fleet: {
        auth: 'handshake',
        markets: [],
        orders: false,
        latency: 'sampled',
        sampleEvery: 0,
        trackSeq: false,
        connectConcurrency: plan.concurrencyPerProcess,
        connectTimeoutMs: 60_000,
      },
      lifetimeMs: 5 * 60_000,
    });
    try {
      const before = sampleProcess(running.pid);
      const result = await group.connect();
      const after = sampleProcess(running.pid);
      await sleep(plan.settleMs);
      const connectedRss = readRssKiB(running.pid);
      return {
        connected: result.ready,
        failed: result.failed,
        errors: result.errors,
        connectMs: result.elapsedMs,
        perSecond: (result.ready / result.elapsedMs) * 1000,
        serverCpuUsPerConnect: (after.cpuUs - before.cpuUs) / Math.max(1, result.ready),
        rssIdleMiB: idleRss / 1024,
        rssConnectedMiB: connectedRss / 1024,
        kibPerConnection: (connectedRss - idleRss) / Math.max(1, result.ready),
      };
    } finally {
      await group.close();
    }
  } finally {
    await running.stop();
  }
}

export const connections: Scenario = {
  name: 'connections',
  description: 'connect + authenticate rate; server RSS per idle authenticated connection',
  async run(context: ScenarioContext): Promise<ScenarioReport> {
    const plan: Plan = PLANS[context.mode];
    const count = context.clients?.[0] ?? plan.connections;
    const rows: ConnectionRow[] = [];
    const raw: Record<string, ConnectionRun[]> = {};
    for (const target of context.targets) {
      const runs: ConnectionRun[] = [];
      for (let run = 1; run <= context.runs; run++) {
        const r = await runOnce(target, plan, count);
        runs.push(r);
        context.log(
          `  connections-${target} run ${run}: ${r.connected} in ${r.connectMs.toFixed(0)} ms = ${r.perSecond.toFixed(0)}/s, ` +
            `${r.kibPerConnection.toFixed(1)} KiB/conn${r.failed ? `, ${r.failed} failed ${JSON.stringify(r.errors)}` : ''}`,
        );
      }
      raw[target] = runs;
      const m = (f: (r: ConnectionRun) => number): number => median(runs.map(f));
      rows.push({
        target,
        connections: count,
        perSecond: round(m((r) => r.perSecond), 0),
        serverCpuUsPerConnect: round(m((r) => r.serverCpuUsPerConnect), 0),
        rssIdleMiB: round(m((r) => r.rssIdleMiB), 1),
        rssConnectedMiB: round(m((r) => r.rssConnectedMiB), 1),
        kibPerConnection: round(m((r) => r.kibPerConnection), 2),
        failed: m((r) => r.failed),
      });
    }
    const table: Cell[][] = rows.map((r) => [
      r.target,
      r.connections,
      r.perSecond,
      r.serverCpuUsPerConnect,
      r.rssIdleMiB,
      r.rssConnectedMiB,
      r.kibPerConnection,
      r.failed,
    ]);
    return {
      scenario: 'connections',
      tables: [
        {
          title: `Connections (median of ${context.runs} run(s)): connect + authenticate, then idle`,
          columns: ['target', 'connections', 'connect+auth /s', 'srv µs/connect', 'RSS empty MiB', 'RSS connected MiB', 'KiB per conn', 'failed'],
          rows: table,
        },
      ],
      data: { rows, runs: raw },
    };
  },
};
