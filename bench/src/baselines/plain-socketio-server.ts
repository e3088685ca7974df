/**
 * Baseline "plain Socket.IO": the naive peer. A stock Socket.IO server that authenticates the
 * handshake token, joins rooms on subscribe, and publishes with `io.to(room).emit` — nothing
 * else (no validation of client payloads, limits, recovery or slow-consumer policy).
 *
 * With REDIS_URL it is one process of the peer cluster: what a team would build instead of
 * ours, the official `@socket.io/redis-adapter` over node-redis, on Redis 7's sharded pub/sub
 * (`createShardedAdapter`, one channel per room), so an `io.to(room).emit` on one process
 * reaches the room's sockets on every other.
 */
import { createServer } from 'node:http';
import { createShardedAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import { Server, type ServerOptions } from 'socket.io';
import { ClientEvent, ServerEvent, messages, rooms } from '@qx/protocol';
import { announceListening, readBaselineConfig } from './baseline-config.js';
import { publishHandler } from './publish-endpoint.js';
import { tokenVerifier } from './verify-token.js';

const config = readBaselineConfig(process.env);
const verify = tokenVerifier(config.jwtSecret);

const server = createServer(
  publishHandler(config.publishApiKey, (room, event, envelope) => {
    io.to(room).emit(event, envelope);
  }),
);
async function redisAdapter(url: string | undefined): Promise<Partial<ServerOptions>> {
  if (!url) return {};
  const pub = createClient({ url });
  const sub = pub.duplicate();
  for (const c of [pub, sub]) c.on('error', (err: Error) => process.stderr.write(`socketio-redis: ${err.message}\n`));
  await Promise.all([pub.connect(), sub.connect()]);
  return { adapter: createShardedAdapter(pub, sub) };
}

const io = new Server(server, { serveClient: false, ...(await redisAdapter(process.env['REDIS_URL'])) });

io.on('connection', (socket) => {
  let userId: string | null = null;
  const authenticate = async (token: unknown): Promise<void> => {
    try {
      userId = await verify(token);
      socket.emit(ServerEvent.AuthSuccess, { message: messages.authSuccess, userId, expiresAt: null, roles: [] });
    } catch {
      socket.emit(ServerEvent.AuthError, { message: 'Invalid token' });
    }
  };
  const handshakeToken = (socket.handshake.auth as { token?: unknown }).token;
  if (handshakeToken !== undefined) void authenticate(handshakeToken);

  socket.on(ClientEvent.Authenticate, (data: { token?: unknown } | null) => void authenticate(data?.token));
  socket.on(ClientEvent.SubscribeMarket, (data: unknown) => {
    if (!userId) return;
    const list = (Array.isArray(data) ? data : [data]).map(String);
    void socket.join(list.map((c) => rooms.market(c)));
    socket.emit(ServerEvent.MarketSubscribed, { commodities: list, message: messages.marketSubscribed(list) });
  });
  socket.on(ClientEvent.SubscribeOrders, (data: unknown) => {
    if (!userId || data !== userId) return;
    void socket.join(rooms.orders(userId));
    socket.emit(ServerEvent.OrdersSubscribed, { userId, room: rooms.orders(userId), message: messages.ordersSubscribed(userId) });
  });
});

server.listen(config.port, config.host, () => announceListening('plain-socketio', config.port));
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));
