/**
 * @qx/engine — the pure trading core: order books, matching, positions, compliance, a
 * simulated market and a volatility monitor. No I/O, no clock or randomness of its own.
 */
export {
  Exchange,
  type AmendRequest,
  type AmendSpec,
  type CancelAllResult,
  type CancelContext,
  type DeadManFiring,
  type DeadManResult,
  type ExchangeOptions,
  type MarketStatusResult,
  type OperationContext,
  type PlaceOutcome,
  type RestoreSummary,
  type TradingControlResult,
} from './exchange.js';
export type { EngineBatch, EngineEvent, MarketPrint, OrderResult } from './events.js';
export type {
  ComplianceRecord,
  DeadManRecord,
  JournalRecord,
  MarketStatusName,
  MarketStatusRecord,
  ConnectionRecord,
  OrderRecord,
  PositionRecord,
  SessionRecord,
  TradeRecord,
  UserControlRecord,
} from './journal.js';
export type { MarketStatusChange, MarketStatusView } from './market-status.js';
export { CancelReason } from './trading-safety.js';
export type { TradingStatus } from './user-controls.js';
export { DEFAULT_VELOCITY, type VelocityOptions } from './velocity-guard.js';
export {
  ComplianceMonitor,
  DEFAULT_THRESHOLDS,
  type ComplianceConfig,
  type ComplianceLimits,
  type ComplianceThreshold,
} from './compliance-monitor.js';
export { VolatilityMonitor, type VolatilityLevel, type VolatilityOptions } from './volatility-monitor.js';
export { MarketSimulator, type MarketSimulatorOptions, type SimulatorStep } from './market-simulator.js';
export { DEFAULT_FAIR_VALUE, FairValueProcess, type FairValueParams } from './fair-value.js';
export { DEFAULT_MARKET_MAKER, type MarketMakerParams } from './market-maker.js';
export { DEFAULT_NOISE, type NoiseParams } from './noise-trader.js';
export { OrderBook, type MatchListener } from './order-book.js';
export type { OrderState } from './order.js';
export { PriceGrid } from './price-grid.js';
export { mulberry32, type RandomSource } from './prng.js';
export { benchMatching, type BenchMatchingOptions, type BenchMatchingResult } from './bench-matching.js';
export { isoTime, orderToWire, tradeToWire, type BookLevelView, type BookView, type PositionView } from './wire.js';
export { isAgentUser } from './types.js';
export type { Clock, Liquidity, OrderRequest, OrderSpec, OrderStatus, OrderType, Side, TimeInForce } from './types.js';
