/** Running one market cell (fresh target + clients) `runs` times and keeping every result. */
import { writeText } from '../lib/results.js';
import { measureMarket, type MarketLoad, type MarketMeasurement } from '../harness/measure-market.js';
import { Session, type SessionPlan } from '../harness/session.js';
import type { ScenarioContext } from './scenario.js';

export async function runMarketCell(
  context: ScenarioContext,
  plan: SessionPlan,
  load: MarketLoad,
  label: string,
): Promise<MarketMeasurement[]> {
  const results: MarketMeasurement[] = [];
  for (let run = 1; run <= context.runs; run++) {
    const session = await Session.open(plan);
    try {
      const m = await measureMarket(session, load);
      results.push(m);
      const w = m.window;
      context.log(
        `  ${label} run ${run}: ${Math.round(w.deliveredPerSec).toLocaleString('en-US')} msg/s, ` +
          `server ${w.serverCpuUsPerMsg.toFixed(2)} µs/msg (${w.serverCpuPct.toFixed(0)}% cpu), ` +
          `load ${w.loadCpuMaxPct.toFixed(0)}% cpu, probe p99 ${w.probeLatency.p99Ms} ms`,
      );
      if (context.resultsDir) {
        writeText(`${label.replace(/[^a-z0-9-]+/gi, '_')}-run${run}.hgrm`, m.probeHistogram.percentileDistribution(), context.resultsDir);
      }
    } finally {
      await session.close();
    }
  }
  return results;
}

export const COMMODITY = 'crude_oil';
