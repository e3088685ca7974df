/**
 * A minimal Socket.IO client over `ws`: handshake, auth, subscriptions, pong — and then frames
 * are only classified by their leading bytes and handed to a sink. Nothing is decoded unless the
 * sink asks (sampled latency, seq tracking), so one process can hold thousands of these.
 */
import WebSocket from 'ws';
import {
  EIO_CLOSE,
  EIO_MESSAGE,
  EIO_OPEN,
  EIO_PING,
  MARKET_UPDATE_PREFIX,
  ORDER_UPDATE_PREFIX,
  PONG,
  SIO_ACK,
  SIO_CONNECT,
  SIO_CONNECT_ERROR,
  SIO_DISCONNECT,
  SIO_EVENT,
  ClientEvent,
  ServerEvent,
  connectPacket,
  decodeAck,
  decodeEvent,
  eventPacket,
  startsWith,
} from './wire.js';

export interface Subscription {
  event: string;
  data: unknown;
  /** the confirmation event that completes it */
  confirm: string;
}

export interface LeanSocketOptions {
  wsUrl: string;
  /** sent with the CONNECT packet (`{token}`), or null to connect anonymously */
  handshakeAuth: Record<string, unknown> | null;
  /** sent as an `authenticate` event after CONNECT, when the token is not in the handshake */
  authenticateEvent: { userId: string; token: string } | null;
  /** wait for `auth-success` before subscribing */
  expectAuthSuccess: boolean;
  subscriptions: readonly Subscription[];
  /** send each subscription only after the previous one is confirmed (a `resume` must follow its subscribe) */
  sequential?: boolean;
  localAddress?: string | undefined;
  timeoutMs: number;
}

export interface Sink {
  marketUpdate(socket: LeanSocket, frame: Buffer): void;
  orderUpdate(socket: LeanSocket, frame: Buffer): void;
  otherEvent(socket: LeanSocket, name: string, data: unknown): void;
  closed(socket: LeanSocket, code: number, reason: string): void;
}

type Phase = 'opening' | 'connecting' | 'authenticating' | 'subscribing' | 'ready' | 'closed';

export class LeanSocket {
  private ws: WebSocket | null = null;
  private phase: Phase = 'opening';
  private pendingConfirms = 0;
  private readyOnce = false;
  private settle: ((error?: Error) => void) | null = null;
  paused = false;
  private nextAckId = 0;
  private readonly acks = new Map<number, (data: unknown) => void>();

  constructor(
    readonly index: number,
    readonly userId: string,
    private readonly options: LeanSocketOptions,
    private readonly sink: Sink,
  ) {}

  /** still waiting for the answers to its subscriptions (a `resume`'s replay arrives in this phase) */
  get subscribing(): boolean {
    return this.phase === 'subscribing';
  }

  get isOpen(): boolean {
    return this.phase !== 'closed';
  }

  /** it completed its handshake and subscriptions once (a later close is a loss, not a failed connect) */
  get wasReady(): boolean {
    return this.readyOnce;
  }

  /** Opens, authenticates and subscribes; resolves when every subscription is confirmed. */
  connect(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`timeout in ${this.phase}`)), this.options.timeoutMs);
      this.settle = (error) => {
        clearTimeout(timer);
        this.settle = null;
        if (error) reject(error);
        else resolve();
      };
      const ws = new WebSocket(this.options.wsUrl, {
        perMessageDeflate: false,
        skipUTF8Validation: true,
        localAddress: this.options.localAddress,
      });
      this.ws = ws;
      ws.on('message', (data: Buffer) => this.onFrame(data));
      ws.on('error', (error) => this.fail(error));
      ws.on('unexpected-response', (_req, res) => this.fail(new Error(`http ${res.statusCode}`)));
      ws.on('close', (code, reason) => {
        const wasOpen = this.phase !== 'closed';
        this.phase = 'closed';
        this.settle?.(new Error(`closed ${code}`));
        if (wasOpen) this.sink.closed(this, code, reason.toString());
      });
    });
  }

  emit(event: string, data: unknown): void {
    this.ws?.send(eventPacket(event, data));
  }

  /** Emits with an acknowledgement: `onAck` gets the server's answer (never called if the socket closes first). */
  emitWithAck(event: string, data: unknown, onAck: (answer: unknown) => void): void {
    const id = this.nextAckId++;
    this.acks.set(id, onAck);
    this.ws?.send(eventPacket(event, data, id));
  }

  /** Stops reading from the TCP socket (a slow consumer); the server's writes back up. */
  pause(): void {
    this.paused = true;
    this.ws?.pause();
  }

  resume(): void {
    this.paused = false;
    this.ws?.resume();
  }

  /** Drops the connection at once (no close handshake): quick teardown of thousands. */
  terminate(): void {
    this.phase = 'closed';
    this.ws?.terminate();
  }

  private fail(error: Error): void {
    if (this.settle) {
      this.settle(error);
      this.terminate();
    }
  }

  private onFrame(frame: Buffer): void {
    const type = frame[0];
    if (type === EIO_MESSAGE) {
      const kind = frame[1];
      if (kind === SIO_EVENT) {
        if (startsWith(frame, MARKET_UPDATE_PREFIX)) this.sink.marketUpdate(this, frame);
        else if (startsWith(frame, ORDER_UPDATE_PREFIX)) this.sink.orderUpdate(this, frame);
        else this.onRareEvent(frame);
      } else if (kind === SIO_ACK) this.onAck(frame);
      else if (kind === SIO_CONNECT) this.onConnected();
      else if (kind === SIO_CONNECT_ERROR) this.fail(new Error(`connect refused: ${frame.toString('utf8', 2)}`));
      else if (kind === SIO_DISCONNECT) this.sink.otherEvent(this, 'disconnect', null);
    } else if (type === EIO_PING) {
      this.ws?.send(PONG);
    } else if (type === EIO_OPEN) {
      this.phase = 'connecting';
      this.ws?.send(connectPacket(this.options.handshakeAuth));
    } else if (type === EIO_CLOSE) {
      this.ws?.close();
    }
  }

  private onAck(frame: Buffer): void {
    const ack = decodeAck(frame);
    const onAck = ack ? this.acks.get(ack.id) : undefined;
    if (!ack || !onAck) return;
    this.acks.delete(ack.id);
    onAck(ack.data);
  }

  private onConnected(): void {
    if (this.phase !== 'connecting') return;
    const auth = this.options.authenticateEvent;
    if (auth) {
      this.phase = 'authenticating';
      this.emit(ClientEvent.Authenticate, auth);
    } else if (this.options.expectAuthSuccess) {
      this.phase = 'authenticating';
    } else {
      this.subscribe();
    }
  }

  private subscribe(): void {
    const subs = this.options.subscriptions;
    if (subs.length === 0) {
      this.becomeReady();
      return;
    }
    this.phase = 'subscribing';
    this.pendingConfirms = subs.length;
    if (this.options.sequential) this.emitSubscription(0);
    else for (const s of subs) this.emit(s.event, s.data);
  }

  private emitSubscription(index: number): void {
    const s = this.options.subscriptions[index];
    if (s) this.emit(s.event, s.data);
  }

  private becomeReady(): void {
    this.phase = 'ready';
    this.readyOnce = true;
    this.settle?.();
  }

  private onRareEvent(frame: Buffer): void {
    const event = decodeEvent(frame);
    if (!event) return;
    if (this.phase === 'authenticating') {
      if (event.name === ServerEvent.AuthSuccess) this.subscribe();
      else if (event.name === ServerEvent.AuthError) this.fail(new Error(`auth-error: ${JSON.stringify(event.data)}`));
      return;
    }
    if (this.phase === 'subscribing') {
      if (event.name === ServerEvent.RequestError) {
        this.fail(new Error(`request-error: ${JSON.stringify(event.data)}`));
        return;
      }
      const subs = this.options.subscriptions;
      if (this.options.sequential) {
        const current = subs[subs.length - this.pendingConfirms];
        if (current?.confirm === event.name) {
          if (--this.pendingConfirms === 0) this.becomeReady();
          else this.emitSubscription(subs.length - this.pendingConfirms);
          return;
        }
      } else if (subs.some((s) => s.confirm === event.name)) {
        if (--this.pendingConfirms === 0) this.becomeReady();
        return;
      }
      // not a confirmation: an event of a stream subscribed already (a live trade-update, a replay) is the sink's
    }
    this.sink.otherEvent(this, event.name, event.data);
  }
}
