/**
 * The live connection: one Socket.IO socket authenticated in the handshake, subscribed to every
 * commodity and to the user's trading, orders and compliance rooms. Envelopes are checked
 * against their stream's seq (duplicates dropped), market updates are conflated to one render
 * per animation frame, and everything else is handed to the screen's reducer as it comes.
 */
import { io, type Socket } from 'socket.io-client';
import {
  ClientEvent,
  ServerEvent,
  SYSTEM_STREAM,
  rooms,
  type AckResponse,
  type ClientToServerEvents,
  type Resumed,
  type ServerToClientEvents,
} from '@qx/protocol';
import { complianceAlert, screenNotice, systemAlert } from '../model/alerts.js';
import type { LiveAction } from '../model/live-state.js';
import { EMPTY_SEQ, forgetSeqs, lastSeqs, rebaseSeqs, trackSeq, type SeqState, type SeqVerdict } from '../model/seq-tracker.js';
import type { MarketUpdatePayload } from '../model/types.js';

type QxSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface FeedOptions {
  url: string;
  userId: string;
  commodities: readonly string[];
  /** read at every (re)connection, so a renewed token is used */
  token: () => string;
  dispatch: (action: LiveAction) => void;
  /** private events may have been missed: reload orders, trades and positions over REST */
  resync: () => void;
  /** an order changed or a fill arrived: positions (net, open buy/sell) changed */
  onPositionsChanged: () => void;
  /** the token was refused or expired */
  onAuthError: (code: string, message: string) => void;
}

const ACK_TIMEOUT_MS = 5000;
const isMarketStream = (stream: string) => stream.startsWith('market-');

export class LiveFeed {
  private readonly socket: QxSocket;
  private seqs: SeqState = EMPTY_SEQ;
  private readonly pendingMarket = new Map<string, MarketUpdatePayload>();
  private frame: number | null = null;
  private readonly marketListeners = new Set<(commodities: readonly string[]) => void>();
  /** subscriptions are made once per (non-recovered) connection */
  private subscribed = false;
  private everSubscribed = false;
  private closed = false;
  /** the connection was lost since it was last live: the next authentication is a reconnect */
  private lost = false;

  constructor(private readonly options: FeedOptions) {
    this.socket = io(options.url, {
      auth: (cb) => cb({ token: options.token() }),
      autoConnect: false,
      reconnectionDelayMax: 5000,
    });
    this.wire();
  }

  start(): void {
    this.options.dispatch({ type: 'connection', status: 'connecting' });
    this.socket.connect();
  }

  close(): void {
    this.closed = true;
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.socket.disconnect();
  }

  /** Connects again (after a refused handshake, with a renewed token). */
  reconnect(): void {
    if (this.closed || this.socket.connected) return;
    this.options.dispatch({ type: 'connection', status: 'reconnecting' });
    this.socket.connect();
  }

  /** A renewed token for the same user: restores private rooms on this socket, no reconnect. */
  reauthenticate(token: string): void {
    if (!this.socket.connected) return this.reconnect();
    this.socket.emit(ClientEvent.Authenticate, { userId: this.options.userId, token });
  }

  /** Calls `listener` with the commodities whose quotes just changed (after each frame). */
  onMarket(listener: (commodities: readonly string[]) => void): () => void {
    this.marketListeners.add(listener);
    return () => this.marketListeners.delete(listener);
  }

  private wire(): void {
    const { socket, options } = this;
    const { dispatch, userId } = options;

    socket.on('connect', () => {
      if (socket.recovered) {
        // same session, same rooms; the gateway re-sends what we missed (seq drops repeats)
        this.live();
        return;
      }
      this.subscribed = false;
      // market streams are not logged and restart with the gateway
      this.seqs = forgetSeqs(this.seqs, isMarketStream);
    });
    socket.on(ServerEvent.AuthSuccess, () => {
      this.live();
      if (!this.subscribed) {
        this.subscribed = true;
        void this.subscribeAll();
      }
    });
    socket.on(ServerEvent.AuthError, (e) => {
      dispatch({ type: 'connection', status: 'auth-error', detail: e.message });
      options.onAuthError(e.code, e.message);
    });
    socket.on('connect_error', (err: Error & { data?: { code?: string; message?: string } }) => {
      const code = err.data?.code;
      if (code) {
        // the handshake token was refused: Socket.IO does not retry on its own
        dispatch({ type: 'connection', status: 'auth-error', detail: err.data?.message ?? err.message });
        options.onAuthError(code, err.data?.message ?? err.message);
      } else {
        this.lost = true;
        dispatch({ type: 'connection', status: 'reconnecting', detail: err.message });
      }
    });
    socket.on('disconnect', (reason) => {
      if (this.closed) return dispatch({ type: 'connection', status: 'offline' });
      this.lost = true;
      dispatch({ type: 'connection', status: 'reconnecting', detail: reason });
      // a server-side disconnect is not retried by the client: retry, gently
      if (reason === 'io server disconnect') setTimeout(() => this.reconnect(), 1000);
    });
    socket.on(ServerEvent.DisconnectReason, (n) => {
      dispatch({ type: 'alert', alert: screenNotice(n.code, 'warning', `Disconnected by the server: ${n.message}`, new Date(), { connection: true }) });
    });
    socket.on(ServerEvent.RequestError, (e) => {
      dispatch({ type: 'alert', alert: screenNotice(e.code, 'warning', `${e.event}: ${e.code} ${e.message}`, new Date()) });
    });

    socket.on(ServerEvent.MarketUpdate, (env) => {
      if (this.track(rooms.market(env.payload.commodity), env.seq) === 'duplicate') return;
      this.pendingMarket.set(env.payload.commodity, env.payload);
      this.frame ??= requestAnimationFrame(() => this.flushMarket());
    });
    socket.on(ServerEvent.OrderUpdate, (env) => {
      const verdict = this.track(rooms.orders(env.userId ?? env.payload.userId), env.seq);
      if (verdict === 'duplicate') return;
      dispatch({ type: 'orders', orders: [env.payload] });
      options.onPositionsChanged();
      if (verdict === 'gap') options.resync();
    });
    socket.on(ServerEvent.TradeUpdate, (env) => {
      const verdict = this.track(rooms.trading(env.userId ?? env.payload.userId), env.seq);
      if (verdict === 'duplicate') return;
      dispatch({ type: 'trades', trades: [env.payload] });
      options.onPositionsChanged();
      if (verdict === 'gap') options.resync();
    });
    socket.on(ServerEvent.ComplianceAlert, (env) => {
      if (this.track(rooms.compliance(env.userId ?? userId), env.seq) === 'duplicate') return;
      dispatch({ type: 'alert', alert: complianceAlert(env.payload, env) });
    });
    socket.on(ServerEvent.SystemAlert, (env) => {
      if (this.track(SYSTEM_STREAM, env.seq) === 'duplicate') return;
      dispatch({ type: 'alert', alert: systemAlert(env.payload, env) });
    });
  }

  /** Authenticated (or recovered): live, and after a loss, "reconnected". */
  private live(): void {
    if (this.lost) {
      this.lost = false;
      this.options.dispatch({ type: 'reconnected' });
    } else {
      this.options.dispatch({ type: 'connection', status: 'connected' });
    }
  }

  private track(stream: string, seq: number | undefined): SeqVerdict {
    const { state, verdict } = trackSeq(this.seqs, stream, seq);
    this.seqs = state;
    return verdict;
  }

  private flushMarket(): void {
    this.frame = null;
    if (this.pendingMarket.size === 0) return;
    const updates = [...this.pendingMarket.values()];
    this.pendingMarket.clear();
    this.options.dispatch({ type: 'market', updates });
    const changed = updates.map((u) => u.commodity);
    for (const listener of this.marketListeners) listener(changed);
  }

  private async request<T>(label: string, send: () => Promise<AckResponse<T>>): Promise<boolean> {
    try {
      const res = await send();
      if (res.ok) return true;
      this.notice(label, `${label} refused: ${res.error.code} ${res.error.message}`);
    } catch {
      this.notice(label, `${label}: no answer from the server`);
    }
    return false;
  }

  private notice(kind: string, message: string): void {
    this.options.dispatch({ type: 'alert', alert: screenNotice(kind, 'warning', message, new Date()) });
  }

  private async subscribeAll(): Promise<void> {
    const { userId, commodities } = this.options;
    const s = this.socket.timeout(ACK_TIMEOUT_MS);
    await Promise.all([
      commodities.length
        ? this.request('subscribe-market', () => s.emitWithAck(ClientEvent.SubscribeMarket, [...commodities]))
        : Promise.resolve(true),
      this.request('join-trading', () => s.emitWithAck(ClientEvent.JoinTrading, userId)),
      this.request('subscribe-orders', () => s.emitWithAck(ClientEvent.SubscribeOrders, userId)),
      this.request('subscribe-compliance', () => s.emitWithAck(ClientEvent.SubscribeCompliance, userId)),
    ]);
    // after a lost session: fetch what was logged meanwhile (alerts included), then the REST state
    const held = lastSeqs(this.seqs, (stream) => !isMarketStream(stream));
    if (this.everSubscribed && Object.keys(held).length) {
      try {
        const res = (await s.emitWithAck(ClientEvent.Resume, held)) as AckResponse<Resumed>;
        if (res.ok) {
          const serverLast = Object.fromEntries(Object.entries(res.streams).map(([stream, { lastSeq }]) => [stream, lastSeq]));
          this.seqs = rebaseSeqs(this.seqs, serverLast);
        }
      } catch {
        /* the REST reload below covers orders and trades */
      }
    }
    this.everSubscribed = true;
    this.options.resync();
  }
}
