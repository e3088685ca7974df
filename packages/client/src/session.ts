/**
 * The connection and its authentication: connect and close, the token in the handshake or the
 * seed's `authenticate` event, token refresh (ahead of expiry and after "Token expired"),
 * reconnecting after the gateway closed the socket, and failing for good when the credentials are
 * refused. What follows an authentication (subscribing again, resuming) is the client's, through
 * `SessionHooks`.
 */
import { ClientEvent, ServerEvent, type AuthError, type AuthSuccess, type DisconnectNotice } from '@qx/protocol/wire';
import { deferred, type ClientContext, type Deferred } from './context.js';
import { QuantEnergxError, isFatalAuthError, toQuantEnergxError, type QuantEnergxErrorCode } from './errors.js';
import { bounded, type AuthGate, type RequestOptions, type Requests } from './requests.js';
import { backoffDelay, isExpiring, refreshDelay } from './token.js';

/** Server-initiated disconnects after which reconnecting would only repeat the offence. */
const FINAL_NOTICES = new Set<string>(['ABUSE', 'AUTH_FAILURES']);
/** Fresh tokens from `getToken` tried, in a row, before a refused token is final. */
const FRESH_TOKEN_TRIES: Partial<Record<QuantEnergxErrorCode, number>> = { INVALID_TOKEN: 1, TOKEN_EXPIRED: 3 };

export interface SessionHooks {
  /** authenticated on a new session (not recovered): subscribe to everything again, then resume */
  restore(session: number): void;
  /** authenticated again on the same session after an interruption (expiry): resume every stream */
  resume(session: number): void;
  /** Socket.IO recovered the session: rooms and authentication kept */
  recovered(session: number): void;
  /** after each `auth-success` */
  authenticated(data: AuthSuccess): void;
}

export class Session implements AuthGate {
  started = false;
  closed = false;
  /** increases with each connection: work for an older one is abandoned */
  session = 0;
  private token: string | null;
  private auth: AuthSuccess | null = null;
  /** authenticated and not expired, as far as the client knows */
  private authActive = false;
  /** a new (not recovered) session: subscriptions must be made again once authenticated */
  private restoreNeeded = false;
  /** the session was interrupted (expiry, reconnect): resume every stream once authenticated */
  private resumeNeeded = false;
  private firstAuth: Deferred<AuthSuccess> | null = null;
  private authWaiters: Deferred<void>[] = [];
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private refreshing: Promise<void> | null = null;
  private refreshFailures = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private reconnectAttempts = 0;
  private notice: DisconnectNotice | null = null;
  private handshakeCarriedToken = false;
  /** fresh tokens fetched in a row because the gateway refused the one held (reset by a success) */
  private freshTokens = 0;
  /** why the client gave up for good (refused credentials, reconnection exhausted); cleared by connect() */
  failure: QuantEnergxError | null = null;
  /** the latest connection failure, to say why a wait ran out */
  lastConnectError: string | null = null;
  private readonly backoff: { delayMs: number; delayMaxMs: number; jitter: number };

  constructor(
    private readonly ctx: ClientContext,
    private readonly requests: () => Requests,
    private readonly hooks: SessionHooks,
  ) {
    const { options } = ctx;
    this.token = options.token ?? null;
    this.backoff = {
      delayMs: options.reconnection?.delayMs ?? 500,
      delayMaxMs: options.reconnection?.delayMaxMs ?? 10_000,
      jitter: options.reconnection?.jitter ?? 0.5,
    };
  }

  get usesHandshake(): boolean {
    return (this.ctx.options.authMode ?? 'handshake') === 'handshake';
  }

  get authenticated(): boolean {
    return this.ctx.socket.connected && this.authActive;
  }

  get authInfo(): AuthSuccess | null {
    return this.auth;
  }

  install(): void {
    const s = this.ctx.socket;
    s.on('connect', () => this.onConnect());
    s.on('disconnect', (reason) => this.onDisconnect(reason));
    s.on('connect_error', (err) => this.onConnectError(err as Error & { data?: { code?: string } }));
    s.on(ServerEvent.AuthSuccess, (data) => this.onAuthSuccess(data));
    s.on(ServerEvent.AuthError, (data) => this.onAuthError(data));
    s.on(ServerEvent.DisconnectReason, (notice) => {
      this.notice = notice;
      this.ctx.emit('disconnect-reason', notice);
    });
    // socket.io gave up reconnecting (`reconnection.attempts`): nothing will happen any more
    s.io.on('reconnect_failed', () => {
      const attempts = this.ctx.options.reconnection?.attempts ?? Infinity;
      const why = this.lastConnectError ? `: ${this.lastConnectError}` : '';
      this.fail(new QuantEnergxError('CONNECT_FAILED', `Could not reach the gateway at ${this.ctx.options.url} (${attempts + 1} attempt${attempts === 0 ? '' : 's'})${why}`));
    });
  }

  /**
   * Connects and resolves on the first authentication. Rejects with the refusal when the
   * credentials are refused for good, `CONNECT_FAILED` when reconnection gives up,
   * `REQUEST_TIMEOUT` after `timeoutMs` (default `connectTimeoutMs`) and `ABORTED` when `signal`
   * fires; in those last two cases the client stops trying (call connect() again to retry).
   */
  connect(options: RequestOptions = {}): Promise<AuthSuccess> {
    if (this.closed) return Promise.reject(new QuantEnergxError('CLIENT_CLOSED', 'The client was closed'));
    if (this.auth && this.authActive && this.ctx.socket.connected) return Promise.resolve(this.auth);
    this.failure = null;
    this.freshTokens = 0; // a new attempt may ask getToken for a fresh token again
    this.firstAuth ??= deferred<AuthSuccess>();
    const pending = this.firstAuth.promise;
    this.started = true;
    if (!this.ctx.socket.connected && !this.ctx.socket.active) this.ctx.socket.connect();
    const timeoutMs = options.timeoutMs ?? this.ctx.options.connectTimeoutMs ?? 30_000;
    return bounded(pending, {
      event: 'connect',
      timeoutMs,
      signal: options.signal,
      timeout: () => new QuantEnergxError('REQUEST_TIMEOUT', `connect: not authenticated within ${timeoutMs} ms${this.lastConnectError ? ` (${this.lastConnectError})` : ''}`, { event: 'connect' }),
    }).catch((err: unknown) => {
      const error = toQuantEnergxError(err);
      // given up by the caller: stop trying, so that nothing connects behind its back
      if ((error.code === 'REQUEST_TIMEOUT' || error.code === 'ABORTED') && !this.authActive) this.stop(error);
      throw error;
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearTimers();
    this.ctx.socket.disconnect();
    const err = new QuantEnergxError('CLIENT_CLOSED', 'The client was closed');
    this.firstAuth?.reject(err);
    this.firstAuth = null;
    for (const w of this.authWaiters.splice(0)) w.reject(err);
  }

  whenAuthenticated(): Promise<void> {
    if (this.closed) return Promise.reject(new QuantEnergxError('CLIENT_CLOSED', 'The client was closed'));
    if (this.failure) return Promise.reject(this.failure);
    if (this.authenticated) return Promise.resolve();
    const d = deferred<void>();
    this.authWaiters.push(d);
    return d.promise;
  }

  authLost(): void {
    this.authActive = false;
    void this.refreshToken();
  }

  /** Socket.IO's `auth` callback: runs before every connection attempt, so reconnects carry a live token. */
  async handshakeAuth(cb: (data: object) => void): Promise<void> {
    try {
      const token = await this.currentToken();
      this.handshakeCarriedToken = true;
      cb({ token, userId: this.ctx.userId });
    } catch (err) {
      // no token now: connect anyway, the `authenticate` event will be tried (and reported) once connected
      this.handshakeCarriedToken = false;
      this.ctx.report(err);
      cb({});
    }
  }

  private onConnect(): void {
    this.session++;
    this.lastConnectError = null;
    this.reconnectAttempts = 0;
    const recovered = this.ctx.socket.recovered === true;
    this.ctx.emit('connect', { recovered });
    if (recovered && this.auth) {
      // the gateway kept rooms and authentication; it replays from what we acknowledged, and a
      // resume from what we hold closes any remaining hole (duplicates are dropped)
      this.authActive = true;
      this.resolveAuthWaiters();
      this.hooks.recovered(this.session);
      return;
    }
    this.authActive = false;
    this.restoreNeeded = true;
    this.resumeNeeded = true;
    // with a handshake token the gateway answers `auth-success` on its own (unless the session was recovered)
    if (recovered || !this.handshakeCarriedToken || !this.usesHandshake) void this.authenticateNow();
  }

  private onDisconnect(reason: string): void {
    this.authActive = false;
    const notice = this.notice;
    this.notice = null;
    let willReconnect = this.ctx.socket.active && !this.closed;
    if (reason === 'io server disconnect' && !this.closed) {
      // the gateway closed this socket on purpose; come back unless it said that would not help
      willReconnect = !(notice && FINAL_NOTICES.has(notice.code));
      if (willReconnect) this.scheduleReconnect();
    }
    this.ctx.emit('disconnect', { reason, notice, willReconnect });
  }

  private onConnectError(err: Error & { data?: { code?: string } }): void {
    this.lastConnectError = err.message;
    if (this.ctx.socket.active || this.closed) return; // a network failure: socket.io retries with backoff
    // refused by the gateway's handshake check
    const code = (err.data?.code ?? 'INVALID_TOKEN') as QuantEnergxErrorCode;
    const error = new QuantEnergxError(code, err.message);
    this.ctx.emit('auth-error', error);
    if (this.tryFreshToken(code)) this.scheduleReconnect();
    else if (isFatalAuthError(code) || code === 'TOKEN_EXPIRED') this.fail(this.final(error));
    else this.scheduleReconnect(); // rate limited, too many connections, server trouble: later
  }

  /**
   * The gateway refused the token held (a restart with a new key, a key rotation, expiry): with a
   * `getToken`, the next attempt carries a fresh one, a bounded number of times in a row.
   */
  private tryFreshToken(code: QuantEnergxErrorCode): boolean {
    if (!this.ctx.options.getToken || this.freshTokens >= (FRESH_TOKEN_TRIES[code] ?? 0)) return false;
    this.freshTokens++;
    this.token = null;
    return true;
  }

  /** A refusal that ends the client, saying whether a fresh token was tried. */
  private final(error: QuantEnergxError): QuantEnergxError {
    if (this.freshTokens === 0) return error;
    return new QuantEnergxError(error.code, `${error.message} (refused again with a fresh token from getToken())`, { event: error.event, field: error.field });
  }

  private async authenticateNow(): Promise<void> {
    const session = this.session;
    let token: string;
    try {
      token = await this.currentToken();
    } catch (err) {
      this.fail(err instanceof QuantEnergxError ? err : new QuantEnergxError('TOKEN_UNAVAILABLE', String(err)));
      return;
    }
    if (session !== this.session || !this.ctx.socket.connected) return;
    try {
      await this.requests().call(ClientEvent.Authenticate, { userId: this.ctx.userId, token });
    } catch (err) {
      if (!(err instanceof QuantEnergxError) || session !== this.session) return;
      if (this.tryFreshToken(err.code)) void this.authenticateNow();
      else if (err.code === 'TOKEN_EXPIRED' && this.auth) void this.refreshToken();
      else if (isFatalAuthError(err.code) || err.code === 'TOKEN_EXPIRED') this.fail(this.final(err));
      else if (err.code !== 'REQUEST_TIMEOUT') this.ctx.report(err);
    }
  }

  private onAuthSuccess(data: AuthSuccess): void {
    const previousExpiry = this.auth?.expiresAt ? Date.parse(this.auth.expiresAt) : null;
    this.auth = data;
    this.authActive = true;
    this.refreshFailures = 0;
    this.freshTokens = 0;
    this.scheduleRefresh(data, previousExpiry);
    this.firstAuth?.resolve(data);
    this.firstAuth = null;
    this.ctx.emit('authenticated', data);
    this.resolveAuthWaiters();
    const session = this.session;
    if (this.restoreNeeded) {
      this.restoreNeeded = false;
      this.resumeNeeded = false;
      this.hooks.restore(session);
    } else if (this.resumeNeeded) {
      this.resumeNeeded = false;
      this.hooks.resume(session);
    }
    this.hooks.authenticated(data);
  }

  private onAuthError(data: AuthError): void {
    const error = new QuantEnergxError(data.code ?? 'INVALID_TOKEN', data.message);
    this.ctx.emit('auth-error', error);
    if (error.code === 'TOKEN_EXPIRED' || data.message === 'Token expired') {
      // the gateway suspended our private rooms; a fresh token restores them on this socket
      if (this.auth) {
        this.authActive = false;
        this.resumeNeeded = true;
        void this.refreshToken();
      }
    }
  }

  /** Fetches a fresh token and authenticates again on the same socket. */
  refreshToken(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const getToken = this.ctx.options.getToken;
    if (!getToken) {
      if (!this.authActive) this.fail(new QuantEnergxError('TOKEN_EXPIRED', 'Token expired and no getToken() to refresh it'));
      return;
    }
    let token: string;
    try {
      token = await this.fetchToken();
    } catch (err) {
      this.ctx.report(err);
      this.retryRefresh();
      return;
    }
    this.token = token;
    this.ctx.stats.tokenRefreshes++;
    if (!this.ctx.socket.connected || this.closed) return; // the next connection carries it
    try {
      await this.requests().call(ClientEvent.Authenticate, { userId: this.ctx.userId, token });
    } catch (err) {
      if (err instanceof QuantEnergxError && isFatalAuthError(err.code)) this.fail(err);
      else this.retryRefresh();
    }
  }

  private retryRefresh(): void {
    if (this.closed || this.refreshFailures >= 5) return;
    const delay = backoffDelay(this.refreshFailures++, this.backoff.delayMs, this.backoff.delayMaxMs, this.backoff.jitter);
    this.setRefreshTimer(delay);
  }

  private scheduleRefresh(data: AuthSuccess, previousExpiry: number | null): void {
    const { options } = this.ctx;
    if (!options.getToken || !data.expiresAt || options.refreshBeforeExpiry === false) return;
    const expiresAt = Date.parse(data.expiresAt);
    // a getToken() that hands back the same token must not spin; expiry will tell us instead
    if (previousExpiry !== null && expiresAt <= previousExpiry && this.refreshTimer === null) return;
    this.setRefreshTimer(refreshDelay(expiresAt, Date.now(), options.refreshLeadMs ?? 30_000));
  }

  private setRefreshTimer(delay: number): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      void this.refreshToken();
    }, delay);
  }

  /** The token to offer now: the one held, unless it is about to expire and `getToken` can do better. */
  async currentToken(): Promise<string> {
    const { options } = this.ctx;
    const margin = Math.min(options.refreshLeadMs ?? 30_000, 5_000);
    if (this.token && !(options.getToken && isExpiring(this.token, Date.now(), margin))) return this.token;
    if (options.getToken) return this.fetchToken();
    if (this.token) return this.token;
    throw new QuantEnergxError('TOKEN_UNAVAILABLE', 'No token');
  }

  /** Asks `getToken` for a token; whatever goes wrong is `TOKEN_UNAVAILABLE`, with the cause. */
  private async fetchToken(): Promise<string> {
    const getToken = this.ctx.options.getToken;
    let token: unknown;
    try {
      token = await getToken?.();
    } catch (err) {
      throw new QuantEnergxError('TOKEN_UNAVAILABLE', `getToken() failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    if (typeof token !== 'string' || token === '') throw new QuantEnergxError('TOKEN_UNAVAILABLE', `getToken() returned ${token === '' ? 'an empty string' : typeof token}, not a token`);
    this.token = token;
    return token;
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const delay = backoffDelay(this.reconnectAttempts++, this.backoff.delayMs, this.backoff.delayMaxMs, this.backoff.jitter);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.closed && !this.ctx.socket.connected) this.ctx.socket.connect();
    }, delay);
  }

  /**
   * Given up for good (credentials refused, reconnection exhausted): stop, tell whoever waits, and
   * answer every later request with this error until connect() is called again.
   */
  private fail(error: QuantEnergxError): void {
    this.failure = error;
    this.stop(error);
    this.ctx.emit('failed', error);
    if (this.ctx.listenerCount('failed') === 0 && (this.ctx.listenerCount('auth-error') === 0 || error.code === 'CONNECT_FAILED')) this.ctx.report(error);
  }

  /** Stops connecting; whoever waits for an authentication gets `error`. */
  private stop(error: QuantEnergxError): void {
    this.clearTimers();
    this.ctx.socket.disconnect();
    this.started = false;
    this.authActive = false;
    this.firstAuth?.reject(error);
    this.firstAuth = null;
    for (const w of this.authWaiters.splice(0)) w.reject(error);
  }

  private resolveAuthWaiters(): void {
    for (const w of this.authWaiters.splice(0)) w.resolve();
  }

  private clearTimers(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.refreshTimer = null;
    this.reconnectTimer = null;
  }
}
