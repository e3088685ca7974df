/**
 * The Socket.IO side of the gateway: handshake authentication, one dispatcher per socket that
 * checks size, rate and authentication before any handler sees a request, the channels' handlers,
 * connection state recovery, and the disconnects the server decides (slow consumer, abuse).
 */
import { randomUUID } from 'node:crypto';
import { ClientEvent, DisconnectCode, ErrorCode, ServerEvent, isDurableStream, streamOfRoom, type DisconnectCodeName } from '@qx/protocol';
import type { Logger } from 'pino';
import type { Channel, RequestHandler } from '../channels/channel.js';
import type { Authenticator } from './authenticator.js';
import type { Hub } from './hub.js';
import { answer, failure, rateLimited, type AckFn, type Outcome } from './outcome.js';
import type { QxServer, QxSocket } from './types.js';
import type { VerifiedToken } from '../auth/token-verifier.js';
import { clientAddress, type TrustFn } from '../http/client-address.js';
import type { Metrics } from '../metrics.js';

export interface GatewayDeps {
  io: QxServer;
  hub: Hub;
  authenticator: Authenticator;
  channels: readonly Channel[];
  metrics: Metrics;
  logger: Logger;
  now: () => number;
  /** which X-Forwarded-For hops are trusted proxies: the same function as REST's */
  trustProxy: TrustFn;
  limits: { maxPayloadBytes: number; maxEventsPerSecond: number; authTimeoutMs: number; maxUnauthenticatedPerAddress: number };
  recoveryWindowMs: number;
  /** the socket's recoverable state changed (a cluster saves the session in Redis) */
  onSessionChanged: (socket: QxSocket) => void;
}

/** How long a socket being closed by the server may take to read its last frames. */
const CLOSE_GRACE_MS = 2000;

/** Seconds in a row with rate-limited requests after which a socket is disconnected for abuse. */
const ABUSE_SECONDS = 5;

/** Per-socket bookkeeping that need not survive a reconnect. */
interface SocketState {
  tokens: number;
  refilledAt: number;
  rejectStreak: number;
  lastRejectSecond: number;
  /** bytes of the request being received: its packet text plus any binary attachments */
  lastPacketBytes: number;
  /** the answer to the previous request: requests of one socket are answered in the order they came */
  pending: Promise<void>;
  /** written seqs at each ping not yet answered, oldest first: a pong confirms the oldest */
  pings: Record<string, number>[];
  /** something was written while a ping was out: ping again when it is answered */
  confirmWanted: boolean;
}

/** Whether `written` holds a position its snapshot `at` does not. */
function ahead(written: Record<string, number>, at: Record<string, number> | undefined): boolean {
  for (const stream in written) if (at?.[stream] !== written[stream]) return true;
  return false;
}

const handshakeTokens = new WeakMap<object, VerifiedToken>();

export class Gateway {
  private readonly handlers = new Map<string, RequestHandler>();
  /** sockets that have not authenticated yet, per address; and the address each one is counted under */
  private readonly unauthenticated = new Map<string, number>();
  private readonly countedAt = new Map<string, string>();
  /** per-socket bookkeeping, for the confirmation pings */
  private readonly states = new WeakMap<QxSocket, SocketState>();
  /** sockets written a recoverable frame just now: each is pinged once, right after */
  private readonly toConfirm = new Set<QxSocket>();

  constructor(private readonly deps: GatewayDeps) {
    for (const channel of deps.channels) {
      for (const [event, handler] of Object.entries(channel.handlers)) this.handlers.set(event, handler);
    }
    this.handlers.set(ClientEvent.Authenticate, async (socket, payload) => {
      const outcome = await deps.authenticator.authenticate(socket, payload, this.address(socket));
      if (socket.data.auth) this.uncount(socket);
      return outcome;
    });
    deps.io.use((socket, next) => {
      const auth = socket.handshake.auth as Record<string, unknown> | undefined;
      if (!auth || auth['token'] === undefined) {
        // a socket without a handshake token waits to authenticate: only so many per address
        if ((this.unauthenticated.get(this.address(socket)) ?? 0) < deps.limits.maxUnauthenticatedPerAddress) return next();
        const err = new Error(ErrorCode.TOO_MANY_UNAUTHENTICATED.message) as Error & { data?: unknown };
        err.data = { code: 'TOO_MANY_UNAUTHENTICATED' };
        return next(err);
      }
      deps.authenticator.verifyHandshake(auth, this.address(socket), socket.id).then(
        (result) => {
          if (result.ok) {
            handshakeTokens.set(socket, result.token);
            next();
            // admitted (counted): Socket.IO connects it on the next tick, unless the client left meanwhile
            setImmediate(() => socket.connected || deps.authenticator.release(result.token.userId, socket.id));
            return;
          }
          const err = new Error(ErrorCode[result.code].message) as Error & { data?: unknown };
          err.data = { code: result.code };
          next(err);
        },
        (err: unknown) => {
          deps.logger.error({ err }, 'handshake verification failed');
          next(new Error('Internal error'));
        },
      );
    });
    deps.io.on('connection', (socket) => this.onConnection(socket));
    deps.hub.onDurableWrite = (socket) => this.wantConfirmation(socket);
  }

  /**
   * Exact recovery needs to know what a socket received. Engine.IO answers a ping with a pong in
   * order, so a pong proves the client read everything written before its ping: right after code that
   * wrote recoverable frames to a socket, it is pinged (one ping out at a time; one more when it
   * comes back if more was written meanwhile). At a cut, what was written is then confirmed unless
   * it was still in flight — and only then is the session recovered (see `withinReplayBound`).
   */
  private wantConfirmation(socket: QxSocket): void {
    // at the end of this run of code, so the ping leaves right behind the frames (often in the same segment)
    if (this.toConfirm.size === 0) queueMicrotask(() => this.confirmAll());
    this.toConfirm.add(socket);
  }

  private confirmAll(): void {
    for (const socket of this.toConfirm) {
      const state = this.states.get(socket);
      if (!state || !socket.connected) continue;
      if (state.pings.length > 0) state.confirmWanted = true;
      else this.ping(socket);
    }
    this.toConfirm.clear();
  }

  private ping(socket: QxSocket): void {
    // Engine.IO's own heartbeat packet (the packetCreate listener records what it confirms)
    (socket.conn as unknown as { sendPacket(type: 'ping'): void }).sendPacket('ping');
  }

  /** Tells a socket why it is being closed, then closes it. `recoverable` keeps its session for a reconnect. */
  disconnect(socket: QxSocket, code: DisconnectCodeName, recoverable: boolean): void {
    const { numeric, message } = DisconnectCode[code];
    this.deps.logger.info({ socket: socket.id, user: socket.data.auth?.userId, code }, 'disconnecting socket');
    socket.emit(ServerEvent.DisconnectReason, { code, numeric, message });
    // the transport's own close waits up to 30 s for a peer that may never read again, holding
    // its unsent frames: after a short grace the TCP connection is cut
    const transport = socket.conn.transport as unknown as { socket?: { terminate?: () => void } };
    setTimeout(() => transport.socket?.terminate?.(), CLOSE_GRACE_MS).unref();
    // closing the transport (rather than the socket) lets the client reconnect and recover
    if (recoverable) socket.conn.close();
    else socket.disconnect(true);
  }

  /** Closes every socket of `userId` on this node (an operator's decision, told to every node in a cluster). */
  disconnectUser(userId: string, code: DisconnectCodeName): number {
    const sockets = this.deps.authenticator.socketsOf(userId);
    for (const socket of sockets) this.disconnect(socket, code, false);
    return sockets.length;
  }

  private onConnection(socket: QxSocket): void {
    const { deps } = this;
    // Memory per connection: drop the first HTTP request (Socket.IO keeps it for middleware such
    // as sessions, which we do not use) and keep only the one header we may read later.
    (socket.conn as unknown as { request: unknown }).request = null;
    const xff = socket.handshake.headers['x-forwarded-for'];
    socket.handshake.headers = xff === undefined ? {} : { 'x-forwarded-for': xff };
    // the handshake token has been verified (or not given); it need not stay in memory
    socket.handshake.auth = {};
    const state: SocketState = {
      tokens: deps.limits.maxEventsPerSecond,
      refilledAt: deps.now(),
      rejectStreak: 0,
      lastRejectSecond: 0,
      lastPacketBytes: 0,
      pending: Promise.resolve(),
      pings: [],
      confirmWanted: false,
    };
    this.states.set(socket, state);
    socket.data.cut = false;
    if (!socket.recovered) {
      socket.data.auth = null;
      socket.data.suspendedRooms = [];
      socket.data.written = {};
      socket.data.confirmed = {};
    }
    socket.conn.on('packet', (packet: { type: string; data?: unknown }) => {
      if (packet.type === 'message') {
        // a text packet starts a request; binary attachments follow it and count towards its size
        if (typeof packet.data === 'string') state.lastPacketBytes = Buffer.byteLength(packet.data);
        else if (packet.data instanceof ArrayBuffer || ArrayBuffer.isView(packet.data)) state.lastPacketBytes += packet.data.byteLength;
      }
      else if (packet.type === 'pong') {
        const at = state.pings.shift();
        if (!at) return;
        const confirmed = socket.data.confirmed;
        let changed = false;
        for (const stream in at) {
          if (confirmed[stream] !== at[stream]) {
            confirmed[stream] = at[stream]!;
            changed = true;
          }
        }
        // nothing new confirmed (an idle socket): its saved session still holds
        if (changed) deps.onSessionChanged(socket);
        if (state.confirmWanted && state.pings.length === 0) {
          state.confirmWanted = false;
          if (ahead(socket.data.written, at)) this.ping(socket);
        }
      }
    });
    socket.conn.on('packetCreate', (packet: { type: string }) => {
      if (packet.type === 'ping') state.pings.push({ ...socket.data.written });
    });
    // before Socket.IO saves the session of a recoverable close: this node saw the cut
    socket.on('disconnecting', () => {
      socket.data.cut = true;
    });
    socket.use((packet, _next) => {
      // handled here in full; Socket.IO's own listeners are not used
      this.dispatch(socket, state, packet as unknown[]);
    });
    socket.on('disconnect', (reason) => {
      for (const channel of deps.channels) channel.onDisconnected?.(socket);
      this.uncount(socket);
      deps.hub.detach(socket.id);
      deps.authenticator.disconnected(socket);
      deps.logger.debug({ socket: socket.id, reason }, 'socket disconnected');
    });

    if (socket.recovered) {
      // what was written to the dropped transport may not have arrived: only confirmed counts
      socket.data.written = { ...socket.data.written, ...socket.data.confirmed };
      // its streams' live events are held back from now until the channels have started its catch-up
      const held = [...socket.rooms].map(streamOfRoom).filter((s): s is string => s !== null && isDurableStream(s));
      for (const stream of held) deps.hub.hold(socket, stream);
      // admitted again first (it may be past the user's limit now); its requests wait for that
      state.pending = deps.authenticator
        .recovered(socket)
        .then(() => {
          if (socket.connected && socket.data.auth) for (const channel of deps.channels) channel.onRecovered?.(socket);
          // refused: what was held is not its to have
          else deps.hub.dropHeld(socket);
        })
        .catch((err: unknown) => deps.logger.error({ err, socket: socket.id }, 'recovering a socket failed'))
        .finally(() => {
          for (const stream of held) deps.hub.release(socket, stream, 0);
        });
    } else {
      const token = handshakeTokens.get(socket);
      if (token) {
        deps.authenticator.activate(socket, token);
        answer(socket, ClientEvent.Authenticate, deps.authenticator.successFor(socket), undefined, deps.metrics);
      } else {
        this.count(socket);
        if (deps.limits.authTimeoutMs > 0) {
          setTimeout(() => {
            if (socket.connected && socket.data.auth === null) this.disconnect(socket, 'AUTH_TIMEOUT', false);
          }, deps.limits.authTimeoutMs).unref();
        }
      }
    }
    if (deps.recoveryWindowMs > 0) {
      socket.emit(ServerEvent.Session, { recovered: socket.recovered, recoveryWindowMs: deps.recoveryWindowMs }, randomUUID());
    }
  }

  private count(socket: QxSocket): void {
    const address = this.address(socket);
    this.unauthenticated.set(address, (this.unauthenticated.get(address) ?? 0) + 1);
    this.countedAt.set(socket.id, address);
  }

  private uncount(socket: QxSocket): void {
    const address = this.countedAt.get(socket.id);
    if (address === undefined) return;
    this.countedAt.delete(socket.id);
    const n = (this.unauthenticated.get(address) ?? 1) - 1;
    if (n <= 0) this.unauthenticated.delete(address);
    else this.unauthenticated.set(address, n);
  }

  private dispatch(socket: QxSocket, state: SocketState, packet: unknown[]): void {
    const { deps } = this;
    const event = String(packet[0]);
    const last = packet.length > 1 ? packet[packet.length - 1] : undefined;
    const ack = typeof last === 'function' ? (last as AckFn) : undefined;
    const payload = packet.length > (ack ? 2 : 1) ? packet[1] : undefined;
    // rate and size are judged on arrival; the handler runs once the previous request is answered,
    // so `authenticate` followed at once by a subscription works
    const refused = this.admit(socket, state);
    const run = async (): Promise<void> => {
      let outcome: Outcome;
      try {
        outcome = refused ?? (await this.handle(socket, event, payload));
      } catch (err) {
        deps.logger.error({ err, event, socket: socket.id }, 'request failed');
        outcome = failure('INTERNAL');
      }
      if (socket.connected) answer(socket, event, outcome, ack, deps.metrics);
    };
    state.pending = state.pending.then(run).catch((err: unknown) => deps.logger.error({ err, event, socket: socket.id }, 'answer failed'));
  }

  private admit(socket: QxSocket, state: SocketState): Outcome | null {
    const { deps } = this;
    if (!this.takeToken(socket, state)) return rateLimited(((1 - state.tokens) * 1000) / deps.limits.maxEventsPerSecond, `At most ${deps.limits.maxEventsPerSecond} requests per second`);
    if (state.lastPacketBytes > deps.limits.maxPayloadBytes) {
      return failure('PAYLOAD_TOO_LARGE', `Requests are limited to ${deps.limits.maxPayloadBytes} bytes`);
    }
    return null;
  }

  private handle(socket: QxSocket, event: string, payload: unknown): Outcome | Promise<Outcome> {
    const { deps } = this;
    const handler = this.handlers.get(event);
    if (!handler) return failure('UNKNOWN_EVENT', `Unknown event: ${event.slice(0, 64)}`);
    const open = event === ClientEvent.Authenticate || event === ClientEvent.Ping;
    if (!open && !deps.authenticator.isActive(socket)) {
      return socket.data.auth ? failure('TOKEN_EXPIRED', 'Token expired: authenticate again') : failure('NOT_AUTHENTICATED');
    }
    return handler(socket, payload);
  }

  /** Token bucket per socket; sustained excess (ABUSE_SECONDS seconds in a row) disconnects. */
  private takeToken(socket: QxSocket, state: SocketState): boolean {
    const now = this.deps.now();
    const rate = this.deps.limits.maxEventsPerSecond;
    state.tokens = Math.min(rate, state.tokens + ((now - state.refilledAt) * rate) / 1000);
    state.refilledAt = now;
    if (state.tokens >= 1) {
      state.tokens -= 1;
      return true;
    }
    const second = Math.floor(now / 1000);
    if (second !== state.lastRejectSecond) {
      state.rejectStreak = second === state.lastRejectSecond + 1 ? state.rejectStreak + 1 : 1;
      state.lastRejectSecond = second;
      if (state.rejectStreak >= ABUSE_SECONDS) this.disconnect(socket, 'ABUSE', false);
    }
    return false;
  }

  private address(socket: { handshake: { address: string; headers: Record<string, string | string[] | undefined> } }): string {
    return clientAddress(socket.handshake.address, socket.handshake.headers['x-forwarded-for'], this.deps.trustProxy);
  }
}

