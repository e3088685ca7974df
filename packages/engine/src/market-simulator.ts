import type { Commodity } from '@qx/protocol';
import type { EngineBatch } from './events.js';
import type { Exchange } from './exchange.js';
import { DEFAULT_FAIR_VALUE, FairValueProcess, type FairValueParams } from './fair-value.js';
import { DEFAULT_MARKET_MAKER, MarketMaker, type MarketMakerParams } from './market-maker.js';
import { DEFAULT_NOISE, NoiseTrader, type NoiseParams } from './noise-trader.js';
import type { RandomSource } from './prng.js';

export interface MarketSimulatorOptions {
  exchange: Exchange;
  /** uniform [0, 1) source; `mulberry32(seed)` for a reproducible market */
  random: RandomSource;
  /** commodities to simulate; default every commodity of the exchange */
  commodities?: readonly string[];
  /** fair-value parameters for every commodity, then per-commodity overrides */
  fairValue?: Partial<FairValueParams>;
  fairValueBy?: Record<string, Partial<FairValueParams>>;
  marketMaker?: Partial<MarketMakerParams>;
  noise?: Partial<NoiseParams>;
  /** a longer gap between steps (a paused process) is simulated as this long; default 5 s */
  maxStepMs?: number;
}

/** A step's output: what to persist and publish, and which commodities' market data changed. */
export interface SimulatorStep extends EngineBatch {
  changed: string[];
}

interface Agents {
  commodity: Commodity;
  fairValue: FairValueProcess;
  maker: MarketMaker;
  noise: NoiseTrader;
}

/**
 * The simulated market: per commodity a fair-value process, a market maker quoting around it
 * and noise traders crossing the spread. Agents trade through the same Exchange as real users
 * (user ids starting with `~`, so they produce no events or journal of their own), which makes
 * market data come from a real book. Deterministic for a given random source and step times.
 * A commodity that is halted or closed is left alone (fair value moves on; nothing is placed),
 * including one halted in the middle of a step; each step first ends the halts that are due
 * (`exchange.tick`), its changes in the step's `marketStatus`.
 */
export class MarketSimulator {
  private readonly exchange: Exchange;
  private readonly random: RandomSource;
  private readonly agents: Agents[] = [];
  private readonly maxStepMs: number;
  private lastMs: number | null = null;

  constructor(options: MarketSimulatorOptions) {
    this.exchange = options.exchange;
    this.random = options.random;
    this.maxStepMs = options.maxStepMs ?? 5000;
    const wanted = options.commodities ? new Set(options.commodities) : null;
    for (const commodity of options.exchange.commodities()) {
      if (wanted !== null && !wanted.has(commodity.symbol)) continue;
      const market = options.exchange.market(commodity.symbol);
      const start = market === undefined ? commodity.referencePrice : market.grid.fromTicks(market.markTicks());
      const params = { ...DEFAULT_FAIR_VALUE, ...options.fairValue, ...options.fairValueBy?.[commodity.symbol] };
      this.agents.push({
        commodity,
        fairValue: new FairValueProcess(commodity.referencePrice, start, params),
        maker: new MarketMaker(commodity, { ...DEFAULT_MARKET_MAKER, ...options.marketMaker }),
        noise: new NoiseTrader(commodity, { ...DEFAULT_NOISE, ...options.noise }),
      });
    }
  }

  /** Advances the market to `nowMs` (call every ~100 ms). The first call only places quotes. */
  step(nowMs: number): SimulatorStep {
    const dtMs = this.lastMs === null ? 0 : Math.min(Math.max(0, nowMs - this.lastMs), this.maxStepMs);
    this.lastMs = Math.max(nowMs, this.lastMs ?? nowMs);
    const dt = dtMs / 1000;
    const out: SimulatorStep = { events: [], journal: [], changed: [] };
    const sink = (o: EngineBatch): void => {
      if (o.events.length > 0) out.events.push(...o.events);
      if (o.journal.length > 0) out.journal.push(...o.journal);
      if (o.prints) (out.prints ??= []).push(...o.prints);
      if (o.marketStatus) (out.marketStatus ??= []).push(...o.marketStatus);
    };
    // halts that have run their time end here too (the exchange's periodic tick), so a simulated
    // market reopens on its own even where nobody else calls `tick`
    sink(this.exchange.tick(nowMs));
    for (const a of this.agents) {
      const before = this.signature(a.commodity.symbol);
      a.fairValue.advance(dt, this.random);
      // a halted or closed market: the agents wait (their quotes rest), they do not even try
      if (this.exchange.marketOpen(a.commodity.symbol)) {
        a.maker.requote(this.exchange, a.fairValue.price, nowMs, this.random, sink);
        a.noise.trade(this.exchange, dt, nowMs, this.random, sink);
      }
      if (this.signature(a.commodity.symbol) !== before) out.changed.push(a.commodity.symbol);
    }
    return out;
  }

  /** Current fair value of a simulated commodity (wire decimals), or null. */
  fairValue(commodity: string): number | null {
    return this.agents.find((a) => a.commodity.symbol === commodity)?.fairValue.price ?? null;
  }

  private signature(commodity: string): string {
    const m = this.exchange.market(commodity);
    if (m === undefined) return '';
    return `${m.lastTicks}|${m.volume}|${m.book.bestBid()}|${m.book.bestAsk()}`;
  }
}
