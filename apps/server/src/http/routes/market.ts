/** Market reference data: the commodity catalogue and the latest market-update per commodity. */
import type { FastifyInstance } from 'fastify';
import type { Commodity } from '@qx/protocol';
import type { TokenVerifier } from '../../auth/token-verifier.js';
import type { Publisher } from '../../realtime/publisher.js';
import { bearerAuth } from '../bearer.js';

export function marketRoutes(app: FastifyInstance, deps: { commodities: readonly Commodity[]; publisher: Publisher; verifier: TokenVerifier }): void {
  const auth = { preHandler: bearerAuth(deps.verifier) };
  app.get('/api/v1/market/commodities', auth, () => ({ commodities: deps.commodities }));
  app.get('/api/v1/market/snapshot', auth, () => ({ snapshot: deps.publisher.latestMarketEnvelopes() }));
}
