/**
 * Authentication of sockets: by the `authenticate` event or the handshake token; refresh with a
 * fresh token for the same user; expiry (the socket leaves its private rooms and is told); failed
 * attempts limited per socket and per address; connections counted per user.
 *
 * Failure limits never refuse a valid token: the token is verified first, and only failures are
 * counted and slowed down. Past a limit a failing attempt is answered `AUTH_RATE_LIMITED` after
 * `failureDelayMs`, so one attacker behind a NAT or a proxy cannot lock out the users sharing its
 * address, while its own guesses (one at a time per socket: requests are answered in order) crawl.
 *
 * `presence` counts a user's sockets on every node of the deployment together (a socket is
 * admitted there before it counts here), and a refresh that drops roles is told to every node
 * (`onRolesNarrowed`), which narrows the roles of the user's other sockets (`narrowRoles`).
 */
import { ServerEvent, authenticatePayloadSchema, rooms, SYSTEM_STREAM, messages, parsePrivateStream, type ErrorCodeName } from '@qx/protocol';
import type { TokenVerifier, VerifiedToken } from '../auth/token-verifier.js';
import { mayFollow } from '../auth/roles.js';
import type { FailureLimiter } from '../auth/failure-limiter.js';
import { failure, success, type Outcome } from './outcome.js';
import type { Delivery } from './delivery.js';
import type { UserPresence } from '../backplane/backplane.js';
import type { QxSocket } from './types.js';
import type { Metrics } from '../metrics.js';

export interface AuthenticatorDeps {
  verifier: TokenVerifier;
  delivery: Delivery;
  metrics: Metrics;
  addressLimiter: FailureLimiter;
  now: () => number;
  maxConnectionsPerUser: number;
  authFailuresPerSocket: number;
  replayLimit: number;
  /** how long a failing attempt past a failure limit waits for its answer */
  failureDelayMs: number;
  /** called when a socket has failed too often and must go */
  onTooManyFailures: (socket: QxSocket) => void;
  /** the user's sockets on every node of the deployment (MAX_CONNECTIONS_PER_USER counts them together) */
  presence: UserPresence;
  /** a refresh carried fewer roles than the socket held: the user's other sockets must lose them too */
  onRolesNarrowed?: ((userId: string, roles: readonly string[]) => void) | undefined;
}

/** The largest delay setTimeout accepts; longer expiries are re-armed when it fires. */
const MAX_TIMER_MS = 2_147_483_647;

export class Authenticator {
  /** the authenticated sockets of each user on this node (counted towards MAX_CONNECTIONS_PER_USER) */
  private readonly byUser = new Map<string, Map<string, QxSocket>>();
  /** the user each counted socket is counted under */
  private readonly countedAs = new Map<string, string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly socketFailures = new Map<string, number>();

  constructor(private readonly deps: AuthenticatorDeps) {}

  /** Whether the socket holds an authentication that has not expired. */
  isActive(socket: QxSocket): boolean {
    const auth = socket.data.auth;
    return auth !== null && (auth.expiresAt === null || auth.expiresAt > this.deps.now());
  }

  /**
   * Verifies a token offered in the handshake; the socket is activated once connected. It is
   * admitted (counted) here: if it never connects, `release` it.
   */
  async verifyHandshake(auth: unknown, address: string, socketId: string): Promise<{ ok: true; token: VerifiedToken } | { ok: false; code: ErrorCodeName }> {
    const a = (auth ?? {}) as Record<string, unknown>;
    if (typeof a['token'] !== 'string' || a['token'].length > 8192) return this.failedHandshake(address, 'INVALID_AUTH_DATA');
    const result = await this.deps.verifier.verify(a['token']);
    if (!result.ok) return this.failedHandshake(address, result.code);
    if (a['userId'] !== undefined && a['userId'] !== result.token.userId) return this.failedHandshake(address, 'USER_MISMATCH');
    if (!(await this.admit(result.token.userId, socketId))) {
      this.deps.metrics.authFailures.labels('TOO_MANY_CONNECTIONS').inc();
      return { ok: false, code: 'TOO_MANY_CONNECTIONS' };
    }
    return { ok: true, token: result.token };
  }

  /** A socket admitted by `verifyHandshake` that never connected. */
  release(userId: string, socketId: string): void {
    if (!this.countedAs.has(socketId)) this.deps.presence.remove(userId, socketId);
  }

  /** Whether one more socket of the user may count: on this node, or (cluster mode) across the cluster, where it is then counted. */
  private async admit(userId: string, socketId: string): Promise<boolean> {
    return (await this.deps.presence.tryAdd(userId, socketId, this.deps.maxConnectionsPerUser)).ok;
  }

  async authenticate(socket: QxSocket, payload: unknown, address: string): Promise<Outcome> {
    const parsed = authenticatePayloadSchema.safeParse(payload);
    if (!parsed.success) return this.fail(socket, address, 'INVALID_AUTH_DATA');
    const result = await this.deps.verifier.verify(parsed.data.token);
    if (!socket.connected) return failure('INVALID_AUTH_DATA', 'Socket disconnected');
    if (!result.ok) return this.fail(socket, address, result.code);
    if (result.token.userId !== parsed.data.userId) return this.fail(socket, address, 'USER_MISMATCH');
    const current = socket.data.auth;
    if (current && current.userId !== result.token.userId) return this.fail(socket, address, 'USER_SWITCH_REFUSED');
    if (!current) {
      const admitted = await this.admit(result.token.userId, socket.id);
      if (!socket.connected) {
        this.deps.presence.remove(result.token.userId, socket.id);
        return failure('INVALID_AUTH_DATA', 'Socket disconnected');
      }
      if (!admitted) {
        this.deps.metrics.authFailures.labels('TOO_MANY_CONNECTIONS').inc();
        return failure('TOO_MANY_CONNECTIONS', `At most ${this.deps.maxConnectionsPerUser} connections per user`);
      }
    }
    this.socketFailures.delete(socket.id);
    this.activate(socket, result.token);
    return this.successFor(socket);
  }

  successFor(socket: QxSocket): Outcome {
    const auth = socket.data.auth;
    return success(ServerEvent.AuthSuccess, {
      message: messages.authSuccess,
      userId: auth?.userId,
      expiresAt: auth?.expiresAt ? new Date(auth.expiresAt).toISOString() : null,
      roles: auth?.roles ?? [],
    });
  }

  /** Makes `token` the socket's authentication: a first sign-in, or a refresh by the same user. */
  activate(socket: QxSocket, token: VerifiedToken): void {
    const first = socket.data.auth === null;
    const before = socket.data.auth?.roles ?? [];
    socket.data.auth = { userId: token.userId, roles: token.roles, expiresAt: token.expiresAt };
    if (first) this.countIn(socket, token.userId);
    if (!socket.rooms.has(rooms.authenticated)) {
      const systemFrom = socket.data.written[SYSTEM_STREAM];
      // a first sign-in follows the system stream from now; back from expiry: the alerts raised meanwhile
      if (systemFrom !== undefined) void socket.join(rooms.authenticated);
      this.deps.delivery.catchUp(socket, SYSTEM_STREAM, rooms.authenticated, systemFrom, this.deps.replayLimit);
    }
    if (!first) this.dropUnauthorized(socket);
    this.restoreSuspended(socket);
    this.armExpiry(socket);
    if (!first && before.some((r) => !token.roles.includes(r))) this.deps.onRolesNarrowed?.(token.userId, token.roles);
  }

  /**
   * The user's roles were narrowed elsewhere (a refresh on another socket or node): this node's
   * sockets of the user keep only the roles in `roles` (never gain one) and leave the private
   * rooms they no longer allow. Returns the sockets that changed.
   */
  narrowRoles(userId: string, roles: readonly string[]): QxSocket[] {
    const changed: QxSocket[] = [];
    for (const socket of this.socketsOf(userId)) {
      const auth = socket.data.auth;
      if (!auth || auth.userId !== userId) continue;
      const kept = auth.roles.filter((r) => roles.includes(r));
      if (kept.length === auth.roles.length) continue;
      socket.data.auth = { ...auth, roles: kept };
      this.dropUnauthorized(socket);
      socket.data.suspendedRooms = socket.data.suspendedRooms.filter((room) => {
        const p = parsePrivateStream(room);
        return !p || mayFollow({ userId, roles: kept }, p.channel, p.userId);
      });
      changed.push(socket);
    }
    return changed;
  }

  /** This node's authenticated sockets of the user. */
  socketsOf(userId: string): QxSocket[] {
    return [...(this.byUser.get(userId)?.values() ?? [])];
  }

  private countIn(socket: QxSocket, userId: string): void {
    if (this.countedAs.has(socket.id)) return;
    this.countedAs.set(socket.id, userId);
    let sockets = this.byUser.get(userId);
    if (!sockets) this.byUser.set(userId, (sockets = new Map<string, QxSocket>()));
    sockets.set(socket.id, socket);
  }

  private countOut(socket: QxSocket): void {
    const userId = this.countedAs.get(socket.id);
    if (userId === undefined) return;
    this.countedAs.delete(socket.id);
    const sockets = this.byUser.get(userId);
    sockets?.delete(socket.id);
    if (sockets?.size === 0) this.byUser.delete(userId);
    this.deps.presence.remove(userId, socket.id);
  }

  /** A refresh may carry fewer roles than before: leave the private rooms it no longer allows. */
  private dropUnauthorized(socket: QxSocket): void {
    const auth = socket.data.auth;
    if (!auth) return;
    for (const room of [...socket.rooms]) {
      const p = parsePrivateStream(room);
      if (!p || mayFollow(auth, p.channel, p.userId)) continue;
      void socket.leave(room);
      delete socket.data.written[room];
      delete socket.data.confirmed[room];
    }
  }

  /**
   * A recovered socket: count it again — past MAX_CONNECTIONS_PER_USER (other connections took its
   * place while it was away) it loses its authentication and rooms and is told so — and re-check
   * its expiry (it may have lapsed while away).
   */
  async recovered(socket: QxSocket): Promise<void> {
    const auth = socket.data.auth;
    if (!auth) return;
    const { presence } = this.deps;
    // counted across the deployment (once: on the node it came from its id may still be listed)
    const { ok } = await presence.tryAdd(auth.userId, socket.id, this.deps.maxConnectionsPerUser);
    if (!socket.connected) {
      if (ok) presence.remove(auth.userId, socket.id);
      return;
    }
    if (!ok) return this.refuseRecovered(socket);
    if (socket.data.auth?.userId !== auth.userId) {
      presence.remove(auth.userId, socket.id);
      return;
    }
    this.countIn(socket, auth.userId);
    if (this.isActive(socket)) this.armExpiry(socket);
    else this.expire(socket);
  }

  /** A recovered socket past the limit: it loses its authentication and rooms and is told so. */
  private refuseRecovered(socket: QxSocket): void {
    const timer = this.timers.get(socket.id);
    if (timer) clearTimeout(timer);
    this.timers.delete(socket.id);
    for (const room of [...socket.rooms]) if (room !== socket.id) void socket.leave(room);
    socket.data.auth = null;
    socket.data.suspendedRooms = [];
    socket.data.written = {};
    socket.data.confirmed = {};
    this.deps.metrics.authFailures.labels('TOO_MANY_CONNECTIONS').inc();
    socket.emit(ServerEvent.AuthError, { message: `At most ${this.deps.maxConnectionsPerUser} connections per user`, code: 'TOO_MANY_CONNECTIONS' });
  }

  disconnected(socket: QxSocket): void {
    const timer = this.timers.get(socket.id);
    if (timer) clearTimeout(timer);
    this.timers.delete(socket.id);
    this.socketFailures.delete(socket.id);
    this.countOut(socket);
  }

  /** The user's authenticated sockets on this node. */
  connectionsOf(userId: string): number {
    return this.byUser.get(userId)?.size ?? 0;
  }

  private armExpiry(socket: QxSocket): void {
    const old = this.timers.get(socket.id);
    if (old) clearTimeout(old);
    this.timers.delete(socket.id);
    const expiresAt = socket.data.auth?.expiresAt;
    if (expiresAt === null || expiresAt === undefined) return;
    const delay = Math.min(Math.max(expiresAt - this.deps.now(), 0), MAX_TIMER_MS);
    const timer = setTimeout(() => {
      this.timers.delete(socket.id);
      if (!socket.connected) return;
      if (this.isActive(socket)) this.armExpiry(socket);
      else this.expire(socket);
    }, delay);
    timer.unref();
    this.timers.set(socket.id, timer);
  }

  /** The token has lapsed: leave private rooms (remembered for a refresh) and say so. */
  private expire(socket: QxSocket): void {
    const suspended = [...socket.rooms].filter((r) => parsePrivateStream(r) !== null);
    socket.data.suspendedRooms = [...new Set([...socket.data.suspendedRooms, ...suspended])];
    for (const room of suspended) void socket.leave(room);
    void socket.leave(rooms.authenticated);
    this.deps.metrics.authFailures.labels('TOKEN_EXPIRED').inc();
    socket.emit(ServerEvent.AuthError, { message: 'Token expired', code: 'TOKEN_EXPIRED' });
  }

  /** After a refresh, rejoin the rooms left at expiry that the token still allows, and replay what was missed. */
  private restoreSuspended(socket: QxSocket): void {
    const auth = socket.data.auth;
    if (!auth || socket.data.suspendedRooms.length === 0) return;
    const rooms = socket.data.suspendedRooms;
    socket.data.suspendedRooms = [];
    for (const room of rooms) {
      const p = parsePrivateStream(room);
      if (!p || !mayFollow(auth, p.channel, p.userId)) continue;
      const from = socket.data.written[room];
      if (from !== undefined) void socket.join(room);
      this.deps.delivery.catchUp(socket, room, room, from, this.deps.replayLimit);
    }
  }

  /** A failed attempt: counted; past the socket's or the address's limit, answered late and as rate-limited. */
  private async fail(socket: QxSocket, address: string, code: ErrorCodeName): Promise<Outcome> {
    const overAddress = this.deps.addressLimiter.fail(address) > this.deps.addressLimiter.limit;
    const n = (this.socketFailures.get(socket.id) ?? 0) + 1;
    this.socketFailures.set(socket.id, n);
    if (n >= this.deps.authFailuresPerSocket * 2) this.deps.onTooManyFailures(socket);
    if (!overAddress && n <= this.deps.authFailuresPerSocket) {
      this.deps.metrics.authFailures.labels(code).inc();
      return failure(code);
    }
    this.deps.metrics.authFailures.labels('AUTH_RATE_LIMITED').inc();
    await this.delay();
    return failure('AUTH_RATE_LIMITED');
  }

  private async failedHandshake(address: string, code: ErrorCodeName): Promise<{ ok: false; code: ErrorCodeName }> {
    if (this.deps.addressLimiter.fail(address) <= this.deps.addressLimiter.limit) {
      this.deps.metrics.authFailures.labels(code).inc();
      return { ok: false, code };
    }
    this.deps.metrics.authFailures.labels('AUTH_RATE_LIMITED').inc();
    await this.delay();
    return { ok: false, code: 'AUTH_RATE_LIMITED' };
  }

  private delay(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, this.deps.failureDelayMs).unref());
  }
}
