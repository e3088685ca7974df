import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { WebSocketServer } from 'ws';
import { ClientEvent, ServerEvent } from './wire.js';
import { LeanSocket, type Sink } from './lean-socket.js';

test('events that arrive while later subscriptions are still being confirmed reach the sink (a live trade-update, a replay)', async (t) => {
  // a server that plays Socket.IO's handshake, then answers each subscription with an event of the
  // stream just joined before the confirmation of the next one
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  t.after(() => server.close());
  await once(server, 'listening');
  server.on('connection', (ws) => {
    ws.send('0{"sid":"s1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}');
    let trades = 0;
    ws.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      if (text.startsWith('40')) ws.send('40{"sid":"x1"}');
      else if (text.startsWith(`42["${ClientEvent.JoinTrading}"`)) ws.send(`42["${ServerEvent.TradingJoined}",{"userId":"u1"}]`);
      else if (text.startsWith(`42["${ClientEvent.Resume}"`)) {
        // a replay, then the answer; a live event after it, while the book subscription is pending
        ws.send(`42["${ServerEvent.TradeUpdate}",{"seq":${++trades}}]`);
        ws.send(`42["${ServerEvent.Resumed}",{"streams":{}}]`);
        ws.send(`42["${ServerEvent.TradeUpdate}",{"seq":${++trades}}]`);
      } else if (text.startsWith(`42["${ClientEvent.SubscribeBook}"`)) ws.send(`42["${ServerEvent.BookSubscribed}",{}]`);
    });
  });
  const seen: [string, unknown][] = [];
  const sink: Sink = {
    marketUpdate: () => undefined,
    orderUpdate: () => undefined,
    otherEvent: (_socket, name, data) => void seen.push([name, data]),
    closed: () => undefined,
  };
  const socket = new LeanSocket(
    0,
    'u1',
    {
      wsUrl: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/socket.io/?EIO=4&transport=websocket`,
      handshakeAuth: null,
      authenticateEvent: null,
      expectAuthSuccess: false,
      sequential: true,
      subscriptions: [
        { event: ClientEvent.JoinTrading, data: 'u1', confirm: ServerEvent.TradingJoined },
        { event: ClientEvent.Resume, data: { 'trading-u1': 0 }, confirm: ServerEvent.Resumed },
        { event: ClientEvent.SubscribeBook, data: { commodity: 'crude_oil' }, confirm: ServerEvent.BookSubscribed },
      ],
      timeoutMs: 5000,
    },
    sink,
  );
  await socket.connect();
  t.after(() => socket.terminate());
  assert.deepEqual(seen, [
    [ServerEvent.TradeUpdate, { seq: 1 }],
    [ServerEvent.TradeUpdate, { seq: 2 }],
  ]);
});
