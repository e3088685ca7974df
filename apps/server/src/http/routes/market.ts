/** Market reference data: the commodity catalogue, the latest market-update per commodity, and candles from the tape. */
import type { FastifyInstance } from 'fastify';
import { CANDLE_INTERVALS, candlesQuerySchema, describeZodError, type Candle, type Commodity } from '@qx/protocol';
import type { TokenVerifier } from '../../auth/token-verifier.js';
import type { Delivery } from '../../realtime/delivery.js';
import type { TapeStore } from '../../store/tape.js';
import { bearerAuth } from '../bearer.js';
import { sendError } from '../errors.js';

export interface MarketRouteDeps {
  commodities: readonly Commodity[];
  delivery: Delivery;
  verifier: TokenVerifier;
  /** the stored public trades (SQLite, or PostgreSQL in a cluster) */
  tape: Pick<TapeStore, 'candles'>;
  priceOf: (commodity: string, ticks: number) => number;
  now: () => number;
}

export function marketRoutes(app: FastifyInstance, deps: MarketRouteDeps): void {
  const auth = { preHandler: bearerAuth(deps.verifier) };
  const known = new Set(deps.commodities.map((c) => c.symbol));
  app.get('/api/v1/market/commodities', auth, () => ({ commodities: deps.commodities }));
  app.get('/api/v1/market/snapshot', auth, () => ({ snapshot: deps.delivery.latestMarketEnvelopes() }));
  // each commodity's market status as this node last heard it from the trading core (open until it says otherwise)
  app.get('/api/v1/market/status', auth, () => ({ statuses: deps.commodities.map((c) => deps.delivery.latestStatus(c.symbol)) }));

  app.get('/api/v1/market/candles', auth, async (request, reply) => {
    const parsed = candlesQuerySchema.safeParse(request.query);
    if (!parsed.success) {
      const { field, message } = describeZodError(parsed.error);
      return sendError(reply, 'INVALID_PAYLOAD', message, field);
    }
    const { commodity, interval, limit } = parsed.data;
    if (!known.has(commodity)) return sendError(reply, 'UNKNOWN_COMMODITY', `Unknown commodity: ${commodity}`, 'commodity');
    const tape = deps.tape;
    const ms = CANDLE_INTERVALS[interval];
    const to = parsed.data.to ?? deps.now() + 1;
    const from = parsed.data.from ?? to - ms * limit;
    if (from >= to) return sendError(reply, 'INVALID_PAYLOAD', 'from must be before to', 'from');
    const price = (ticks: number) => deps.priceOf(commodity, ticks);
    let stored;
    try {
      stored = await tape.candles(commodity, ms, from, to, limit);
    } catch (err) {
      request.log.error({ err }, 'candles could not be read');
      return sendError(reply, 'SERVICE_UNAVAILABLE', 'The tape could not be read');
    }
    const candles: Candle[] = stored.map((c) => ({
      time: new Date(c.start).toISOString(),
      open: price(c.open),
      high: price(c.high),
      low: price(c.low),
      close: price(c.close),
      volume: c.volume,
      trades: c.trades,
    }));
    return { commodity, interval, from: new Date(from).toISOString(), to: new Date(to).toISOString(), candles };
  });
}
