/** `GET /api/v1/events?stream=&after=&limit=`: what a client missed, from the durable log. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { SYSTEM_STREAM, parsePrivateStream, describeZodError } from '@qx/protocol';
import { mayFollow } from '../../auth/roles.js';
import type { TokenVerifier } from '../../auth/token-verifier.js';
import type { Store } from '../../store/store.js';
import { bearerAuth } from '../bearer.js';
import { sendError } from '../errors.js';

const query = z.strictObject({
  stream: z.string().min(1).max(200),
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export function eventRoutes(app: FastifyInstance, deps: { store: Store; verifier: TokenVerifier }): void {
  app.get('/api/v1/events', { preHandler: bearerAuth(deps.verifier) }, async (request, reply) => {
    const q = query.safeParse(request.query);
    if (!q.success) {
      const { field, message } = describeZodError(q.error);
      return sendError(reply, 'INVALID_PAYLOAD', message, field || undefined);
    }
    const { stream, after, limit } = q.data;
    const user = request.user!;
    if (stream !== SYSTEM_STREAM) {
      const p = parsePrivateStream(stream);
      if (!p) return sendError(reply, 'INVALID_STREAM', `Unknown stream: ${stream}`, 'stream');
      if (!mayFollow(user, p.channel, p.userId)) return sendError(reply, 'FORBIDDEN', `Not allowed to read ${stream}`, 'stream');
    }
    const rows = await deps.store.readEvents(stream, after, limit + 1);
    const hasMore = rows.length > limit;
    const page = hasMore ? rows.slice(0, limit) : rows;
    // stored envelopes are JSON text already: splice them in rather than parse and re-serialize
    const events = page.map((r) => `{"event":"${r.event}","seq":${r.seq},"envelope":${r.envelope}}`).join(',');
    const lastSeq = await deps.store.lastSeq(stream);
    return reply
      .type('application/json')
      .send(`{"stream":${JSON.stringify(stream)},"after":${after},"events":[${events}],"hasMore":${hasMore},"lastSeq":${lastSeq}}`);
  });
}
