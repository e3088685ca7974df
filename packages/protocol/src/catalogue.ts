/**
 * The default commodity catalogue: what is traded, in which unit, on which price grid. Wire
 * prices are decimals; the engine holds them as integer ticks (`price / tickSize`).
 */
export interface Commodity {
  symbol: string;
  name: string;
  unit: string;
  currency: string;
  /** smallest price increment, as a decimal */
  tickSize: number;
  /** units per contract (informational; quantities on the wire are in units) */
  contractSize: number;
  /** realistic reference price, used as the session's opening reference */
  referencePrice: number;
  /** default compliance limits, in units; per-user overrides come from config */
  positionLimit: number;
  maxOrderSize: number;
}

export const DEFAULT_COMMODITIES: readonly Commodity[] = [
  { symbol: 'crude_oil', name: 'WTI Crude Oil', unit: 'bbl', currency: 'USD', tickSize: 0.01, contractSize: 1000, referencePrice: 75.0, positionLimit: 10_000_000, maxOrderSize: 1_000_000 },
  { symbol: 'brent', name: 'Brent Crude Oil', unit: 'bbl', currency: 'USD', tickSize: 0.01, contractSize: 1000, referencePrice: 79.0, positionLimit: 10_000_000, maxOrderSize: 1_000_000 },
  { symbol: 'natural_gas', name: 'Henry Hub Natural Gas', unit: 'MMBtu', currency: 'USD', tickSize: 0.001, contractSize: 10000, referencePrice: 3.0, positionLimit: 100_000_000, maxOrderSize: 10_000_000 },
  { symbol: 'heating_oil', name: 'NY Harbor ULSD (Heating Oil)', unit: 'gal', currency: 'USD', tickSize: 0.0001, contractSize: 42000, referencePrice: 2.45, positionLimit: 420_000_000, maxOrderSize: 42_000_000 },
  { symbol: 'gasoline', name: 'RBOB Gasoline', unit: 'gal', currency: 'USD', tickSize: 0.0001, contractSize: 42000, referencePrice: 2.35, positionLimit: 420_000_000, maxOrderSize: 42_000_000 },
  { symbol: 'power', name: 'PJM West Power', unit: 'MWh', currency: 'USD', tickSize: 0.05, contractSize: 800, referencePrice: 50.0, positionLimit: 1_000_000, maxOrderSize: 100_000 },
  { symbol: 'carbon', name: 'EU Carbon Allowances (EUA)', unit: 'tCO2', currency: 'EUR', tickSize: 0.01, contractSize: 1000, referencePrice: 70.0, positionLimit: 10_000_000, maxOrderSize: 1_000_000 },
];

/** Number of decimals of a tick size (0.0001 → 4), for exact conversion at the edge. */
export function decimalsOf(tickSize: number): number {
  const s = tickSize.toString();
  if (s.includes('e-')) return Number(s.split('e-')[1]);
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}
