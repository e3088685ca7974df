/**
 * Baseline "raw ws": the ceiling for Node on this machine. It speaks just enough Engine.IO /
 * Socket.IO for the same clients (open, connect with token, auth-success, subscribe, ping), and
 * broadcasts by encoding each packet once and writing the same bytes to every socket in the
 * room. No acks, no recovery, no limits, no buffering policy.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { ClientEvent, ServerEvent, messages, rooms } from '@qx/protocol';
import { announceListening, readBaselineConfig } from './baseline-config.js';
import { publishHandler } from './publish-endpoint.js';
import { tokenVerifier } from './verify-token.js';

const PING_INTERVAL_MS = 25_000;
const config = readBaselineConfig(process.env);
const verify = tokenVerifier(config.jwtSecret);
const members = new Map<string, Set<WebSocket>>();
const clients = new Set<WebSocket>();

function send(ws: WebSocket, event: string, data: unknown): void {
  ws.send(`42${JSON.stringify([event, data])}`);
}

function join(ws: WebSocket, joined: Set<string>, room: string): void {
  let set = members.get(room);
  if (!set) {
    set = new Set();
    members.set(room, set);
  }
  set.add(ws);
  joined.add(room);
}

function onConnection(ws: WebSocket): void {
  const sid = randomBytes(15).toString('base64url');
  const joined = new Set<string>();
  let userId: string | null = null;
  clients.add(ws);
  ws.send(`0${JSON.stringify({ sid, upgrades: [], pingInterval: PING_INTERVAL_MS, pingTimeout: 20_000, maxPayload: 1_000_000 })}`);

  const authenticate = async (token: unknown): Promise<void> => {
    try {
      userId = await verify(token);
      send(ws, ServerEvent.AuthSuccess, { message: messages.authSuccess, userId, expiresAt: null, roles: [] });
    } catch {
      send(ws, ServerEvent.AuthError, { message: 'Invalid token' });
    }
  };

  const onEvent = (name: unknown, data: unknown): void => {
    if (name === ClientEvent.Authenticate) {
      void authenticate((data as { token?: unknown } | null)?.token);
    } else if (!userId) {
      send(ws, ServerEvent.AuthError, { message: 'Not authenticated' });
    } else if (name === ClientEvent.SubscribeMarket) {
      const list = (Array.isArray(data) ? data : [data]).map(String);
      for (const c of list) join(ws, joined, rooms.market(c));
      send(ws, ServerEvent.MarketSubscribed, { commodities: list, message: messages.marketSubscribed(list) });
    } else if (name === ClientEvent.SubscribeOrders && data === userId) {
      join(ws, joined, rooms.orders(userId));
      send(ws, ServerEvent.OrdersSubscribed, { userId, room: rooms.orders(userId), message: messages.ordersSubscribed(userId) });
    }
  };

  ws.on('message', (raw: Buffer) => {
    const text = raw.toString('utf8');
    if (text === '3') return; // pong
    if (text.startsWith('40')) {
      ws.send(`40${JSON.stringify({ sid })}`);
      const auth = text.length > 2 ? (JSON.parse(text.slice(2)) as { token?: unknown }) : {};
      if (auth.token !== undefined) void authenticate(auth.token);
    } else if (text.startsWith('42')) {
      try {
        const packet = JSON.parse(text.slice(2)) as unknown[];
        onEvent(packet[0], packet[1]);
      } catch {
        ws.close(1003, 'bad packet');
      }
    }
  });
  ws.on('close', () => {
    clients.delete(ws);
    for (const room of joined) members.get(room)?.delete(ws);
  });
}

const server = createServer(
  publishHandler(config.publishApiKey, (room, event, envelope) => {
    const sockets = members.get(room);
    if (!sockets || sockets.size === 0) return;
    // encode once; the same bytes go to every socket
    const packet = Buffer.from(`42${JSON.stringify([event, envelope])}`);
    for (const ws of sockets) ws.send(packet, { binary: false });
  }),
);
const wss = new WebSocketServer({ server, path: '/socket.io/', perMessageDeflate: false, clientTracking: false });
wss.on('connection', onConnection);
setInterval(() => {
  for (const ws of clients) ws.send('2');
}, PING_INTERVAL_MS).unref();

server.listen(config.port, config.host, () => announceListening('raw-ws', config.port));
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));
