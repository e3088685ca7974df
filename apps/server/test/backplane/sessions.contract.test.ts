/**
 * UserPresence and RecoverySessions, against both backplanes. Where a cluster has two gateways,
 * the tests use two (sharing presence and sessions through Redis); one process is one node, so
 * there "the other node" is the same one and the same assertions hold.
 *
 * - presence: `tryAdd` admits a user's sockets up to the limit, over every node; the same socket
 *   again (a session recovered on another node keeps its id) counts once; `remove` frees a place.
 * - sessions: a Socket.IO server on the backplane's adapter recovers a cut socket's session (its
 *   id, rooms and data) on either node; `canRecover` false gives a fresh session; a socket the
 *   server closed for good has none.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';
import type { CanRecover } from '../../src/backplane/backplane.js';
import { forEachBackplane, until, type Node } from './backplanes.js';

interface Gateway {
  url: string;
  /** the server side of each connection, by the order they came */
  connections: ServerSocket[];
  close(): Promise<void>;
}

/** A Socket.IO server on the node's recovery adapter: a fresh socket joins `room-<tag>` and gets data; every socket gets an offset to recover from. */
async function gateway(node: Node, canRecover: CanRecover): Promise<Gateway> {
  const http = createServer();
  const io = new Server(http, {
    adapter: node.backplane.sessions.adapter(canRecover) as never,
    connectionStateRecovery: { maxDisconnectionDuration: node.config.recoveryWindowMs, skipMiddlewares: true },
  });
  const connections: ServerSocket[] = [];
  io.on('connection', (socket) => {
    connections.push(socket);
    if (!socket.recovered) {
      const tag = String(socket.handshake.auth['tag'] ?? 'none');
      void socket.join(`room-${tag}`);
      socket.data = { tag, written: { [`orders-${tag}`]: 7 } };
      node.backplane.sessions.touch(socket);
    }
    // the last string argument is the offset socket.io-client sends back to recover
    socket.emit('session', { recovered: socket.recovered }, randomUUID());
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections,
    close: () => new Promise<void>((resolve) => void io.close(() => resolve())),
  };
}

/** A client that says which session it got; resolves once it has. */
async function client(gw: Gateway, auth: Record<string, unknown>, reconnection = false): Promise<{ socket: Socket; sessions: boolean[] }> {
  const socket = connect(gw.url, { transports: ['websocket'], forceNew: true, reconnection, reconnectionDelay: 50, auth });
  const sessions: boolean[] = [];
  socket.on('session', (s: { recovered: boolean }) => sessions.push(s.recovered));
  await until(() => sessions.length > 0, 5000, 'the session');
  return { socket, sessions };
}

/** What a reconnecting socket.io-client sends to recover its session. */
function recoveryOf(socket: Socket): { pid: string; offset: string } {
  const s = socket as unknown as { _pid?: string; _lastOffset?: string };
  assert.ok(s._pid && s._lastOffset, 'the client holds a recoverable session');
  return { pid: s._pid, offset: s._lastOffset };
}

await forEachBackplane('UserPresence and RecoverySessions', (deployment) => {
  let a: Node;
  let b: Node;
  before(async () => {
    a = deployment().nodes[0]!;
    b = (await deployment().addNode()) ?? a;
  });

  test('presence: a user’s sockets are admitted up to the limit over every node; other users are not counted', async () => {
    assert.equal((await a.backplane.presence.tryAdd('pr-1', 's1', 3)).ok, true);
    assert.equal((await b.backplane.presence.tryAdd('pr-1', 's2', 3)).ok, true);
    assert.equal((await a.backplane.presence.tryAdd('pr-1', 's3', 3)).ok, true);
    assert.equal((await b.backplane.presence.tryAdd('pr-1', 's4', 3)).ok, false, 'the fourth, on either node');
    assert.equal((await a.backplane.presence.tryAdd('pr-1', 's4', 3)).ok, false);
    assert.equal((await a.backplane.presence.tryAdd('pr-2', 's4', 3)).ok, true, 'another user');
    // one leaves (on the other node): a place frees
    b.backplane.presence.remove('pr-1', 's2');
    const deadline = Date.now() + 5000;
    while (!(await a.backplane.presence.tryAdd('pr-1', 's4', 3)).ok) {
      assert.ok(Date.now() < deadline, 'the freed place is seen on the other node');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal((await b.backplane.presence.tryAdd('pr-1', 's5', 3)).ok, false, 'full again');
    // removing what is not there changes nothing
    a.backplane.presence.remove('pr-1', 'never-added');
    a.backplane.presence.remove('pr-nobody', 's1');
    assert.equal((await a.backplane.presence.tryAdd('pr-1', 's5', 3)).ok, false);
    for (const [node, id] of [
      [a, 's1'],
      [a, 's3'],
      [a, 's4'],
    ] as const)
      node.backplane.presence.remove('pr-1', id);
  });

  test('presence: the same socket again (recovered on the other node, keeping its id) counts once', async () => {
    assert.equal((await a.backplane.presence.tryAdd('pr-rec', 'sock-1', 2)).ok, true);
    assert.equal((await a.backplane.presence.tryAdd('pr-rec', 'sock-1', 2)).ok, true, 'again on its node');
    assert.equal((await b.backplane.presence.tryAdd('pr-rec', 'sock-1', 2)).ok, true, 'on the other node');
    assert.equal((await b.backplane.presence.tryAdd('pr-rec', 'sock-2', 2)).ok, true, 'a second socket still fits');
    assert.equal((await a.backplane.presence.tryAdd('pr-rec', 'sock-3', 2)).ok, false, 'a third does not');
  });

  test('sessions: a cut socket is recovered, on its node and on the other, with its id, rooms and data', async () => {
    const [here, there] = await Promise.all([gateway(a, () => true), a === b ? null : gateway(b, () => true)]);
    try {
      // on its own node: socket.io-client reconnects by itself and sends its session
      const first = await client(here, { tag: 'rec-1' }, true);
      const id = first.socket.id;
      first.socket.io.engine.close();
      await until(() => first.sessions.length === 2, 5000, 'the reconnect');
      assert.deepEqual(first.sessions, [false, true]);
      assert.equal(first.socket.id, id, 'the same socket id');
      const recovered = here.connections.at(-1)!;
      assert.ok(recovered.rooms.has('room-rec-1'), 'its rooms');
      assert.deepEqual(recovered.data, { tag: 'rec-1', written: { 'orders-rec-1': 7 } }, 'its data');
      first.socket.disconnect();

      // on the other node (through a load balancer): the client comes back there with its session
      const away = await client(here, { tag: 'rec-2' });
      const recovery = recoveryOf(away.socket);
      const awayId = away.socket.id;
      away.socket.io.engine.close();
      await until(() => !away.socket.connected, 5000, 'the cut');
      const target = there ?? here;
      const back = await client(target, recovery);
      assert.deepEqual(back.sessions, [true]);
      assert.equal(back.socket.id, awayId);
      const restored = target.connections.at(-1)!;
      assert.ok(restored.rooms.has('room-rec-2'));
      assert.deepEqual(restored.data, { tag: 'rec-2', written: { 'orders-rec-2': 7 } });
      // a session is restored once
      back.socket.disconnect();
      const twice = await client(target, recovery);
      assert.deepEqual(twice.sessions, [false], 'restored once only');
      twice.socket.disconnect();
    } finally {
      await here.close();
      await there?.close();
    }
  });

  test('sessions: canRecover false gives a fresh session; a socket the server closed for good has none', async () => {
    let allow = false;
    const seen: unknown[] = [];
    const gw = await gateway(a, (data) => {
      seen.push(data);
      return allow;
    });
    try {
      const one = await client(gw, { tag: 'bound' });
      const recovery = recoveryOf(one.socket);
      one.socket.io.engine.close();
      await until(() => !one.socket.connected, 5000, 'the cut');
      const fresh = await client(gw, recovery);
      assert.deepEqual(fresh.sessions, [false], 'too much to replay: a fresh session');
      assert.deepEqual(seen, [{ tag: 'bound', written: { 'orders-bound': 7 } }], 'asked with the session’s data');
      assert.notEqual(fresh.socket.id, one.socket.id);
      fresh.socket.disconnect();

      allow = true;
      const closed = await client(gw, { tag: 'kicked' });
      const kicked = recoveryOf(closed.socket);
      await until(() => gw.connections.some((s) => s.id === closed.socket.id), 5000, 'the server socket');
      gw.connections.find((s) => s.id === closed.socket.id)!.disconnect(true);
      await until(() => !closed.socket.connected, 5000, 'the close');
      const again = await client(gw, kicked);
      assert.deepEqual(again.sessions, [false], 'closed by the server: nothing to recover');
      again.socket.disconnect();
    } finally {
      await gw.close();
    }
  });
});
