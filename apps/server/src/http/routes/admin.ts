/**
 * A risk manager's controls (JWT with role `admin` or `risk`): the kill switch —
 * `POST /api/v1/admin/users/:userId/trading {enabled, reason}` — and market halts —
 * `POST /api/v1/admin/market/:commodity/halt {reason, durationMs?}` and `.../reopen`. Each is
 * decided by the trading core (journaled: it survives a restart and an engine fail-over) and
 * logged at info with who, whom and why.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { ErrorCode, commoditySchema, describeZodError, marketHaltBodySchema, tradingControlBodySchema, userIdSchema, type WireError } from '@qx/protocol';
import type { TokenVerifier } from '../../auth/token-verifier.js';
import { mayControlRisk } from '../../auth/roles.js';
import type { TradingApi } from '../../backplane/backplane.js';
import { bearerAuth } from '../bearer.js';
import { sendError } from '../errors.js';

export interface AdminRouteDeps {
  trading: TradingApi;
  verifier: TokenVerifier;
  commodities: ReadonlySet<string>;
}

const userParam = z.strictObject({ userId: userIdSchema });
const commodityParam = z.strictObject({ commodity: commoditySchema });

export function adminRoutes(app: FastifyInstance, deps: AdminRouteDeps): void {
  const auth = { preHandler: bearerAuth(deps.verifier) };
  const refuse = (reply: FastifyReply, error: WireError) => reply.code(ErrorCode[error.code].status).send({ error });

  app.post('/api/v1/admin/users/:userId/trading', auth, async (request, reply) => {
    if (!mayControlRisk(request.user!)) return sendError(reply, 'FORBIDDEN', "Only a token with role 'risk' or 'admin' may switch a user's trading");
    const params = userParam.safeParse(request.params);
    if (!params.success) return sendError(reply, 'INVALID_PAYLOAD', 'userId: not a valid user id', 'userId');
    const body = tradingControlBodySchema.safeParse(request.body);
    if (!body.success) {
      const { field, message } = describeZodError(body.error);
      return sendError(reply, 'INVALID_PAYLOAD', message, field || undefined);
    }
    const outcome = await deps.trading.setTradingEnabled(params.data.userId, body.data.enabled, body.data.reason, request.user!.userId);
    if (!outcome.ok) return refuse(reply, outcome.error);
    const { ok: _ok, ...result } = outcome;
    return result;
  });

  app.post('/api/v1/admin/market/:commodity/halt', auth, async (request, reply) => {
    if (!mayControlRisk(request.user!)) return sendError(reply, 'FORBIDDEN', "Only a token with role 'risk' or 'admin' may halt a market");
    const commodity = known(commodityParam.safeParse(request.params), deps.commodities);
    if (!commodity) return sendError(reply, 'UNKNOWN_COMMODITY', 'Unknown commodity', 'commodity');
    const body = marketHaltBodySchema.safeParse(request.body);
    if (!body.success) {
      const { field, message } = describeZodError(body.error);
      return sendError(reply, 'INVALID_PAYLOAD', message, field || undefined);
    }
    const outcome = await deps.trading.halt(commodity, body.data.reason, body.data.durationMs ?? null, request.user!.userId);
    return outcome.ok ? { status: outcome.status } : refuse(reply, outcome.error);
  });

  app.post('/api/v1/admin/market/:commodity/reopen', auth, async (request, reply) => {
    if (!mayControlRisk(request.user!)) return sendError(reply, 'FORBIDDEN', "Only a token with role 'risk' or 'admin' may reopen a market");
    const commodity = known(commodityParam.safeParse(request.params), deps.commodities);
    if (!commodity) return sendError(reply, 'UNKNOWN_COMMODITY', 'Unknown commodity', 'commodity');
    const outcome = await deps.trading.reopen(commodity, request.user!.userId);
    return outcome.ok ? { status: outcome.status } : refuse(reply, outcome.error);
  });
}

function known(parsed: { success: true; data: { commodity: string } } | { success: false }, commodities: ReadonlySet<string>): string | null {
  return parsed.success && commodities.has(parsed.data.commodity) ? parsed.data.commodity : null;
}
