import { normal, type RandomSource } from './prng.js';

export interface FairValueParams {
  /** speed of mean reversion towards the anchor, per second (1/600: a ten-minute half-life scale) */
  meanReversion: number;
  /** diffusion of the log price, per √second */
  volatility: number;
  /** expected jumps per second */
  jumpRate: number;
  /** typical jump size in log price (a jump is 0.6–1.4 × this, up or down) */
  jumpSize: number;
  /** the log deviation from the anchor never exceeds this (keeps quotes well inside the band) */
  maxDeviation: number;
}

export const DEFAULT_FAIR_VALUE: FairValueParams = {
  meanReversion: 1 / 600,
  volatility: 0.0004,
  jumpRate: 1 / 1800,
  jumpSize: 0.025,
  maxDeviation: 0.15,
};

/**
 * A commodity's fair value: an Ornstein–Uhlenbeck process in log price around an anchor (the
 * catalogue's reference price), with occasional jumps. Exact discretization, so the step size
 * does not change the distribution.
 */
export class FairValueProcess {
  /** log(price / anchor) */
  private deviation: number;

  constructor(
    readonly anchor: number,
    start: number,
    private readonly params: FairValueParams = DEFAULT_FAIR_VALUE,
  ) {
    this.deviation = clamp(Math.log(start / anchor), params.maxDeviation);
  }

  get price(): number {
    return this.anchor * Math.exp(this.deviation);
  }

  /** Advances by `dtSeconds`; returns true when a jump happened. */
  advance(dtSeconds: number, random: RandomSource): boolean {
    if (dtSeconds <= 0) return false;
    const { meanReversion: k, volatility: sigma, jumpRate, jumpSize, maxDeviation } = this.params;
    const decay = Math.exp(-k * dtSeconds);
    const spread = k > 0 ? sigma * Math.sqrt((1 - decay * decay) / (2 * k)) : sigma * Math.sqrt(dtSeconds);
    let x = this.deviation * decay + spread * normal(random);
    const jumped = random() < 1 - Math.exp(-jumpRate * dtSeconds);
    if (jumped) x += (random() < 0.5 ? -1 : 1) * jumpSize * (0.6 + 0.8 * random());
    this.deviation = clamp(x, maxDeviation);
    return jumped;
  }
}

function clamp(x: number, limit: number): number {
  return x > limit ? limit : x < -limit ? -limit : x;
}
