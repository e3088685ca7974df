import type { Socket as NetSocket } from 'node:net';
import { WebSocket } from 'ws';
import { until, type TestServer } from './helpers.js';

/** A bare Engine.IO v4 / Socket.IO v5 client over `ws`, so the test can stop reading its TCP socket. */
export class RawClient {
  readonly ws: WebSocket;
  readonly packets: string[] = [];
  private ackId = 0;

  constructor(server: TestServer) {
    this.ws = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
    this.ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (text === '2') this.ws.send('3'); // Engine.IO ping → pong
      else this.packets.push(text);
    });
  }

  async connect(token: string): Promise<void> {
    await until(() => this.packets.some((p) => p.startsWith('0{')), 3000, 'engine.io open');
    this.ws.send(`40${JSON.stringify({ token })}`);
    await until(() => this.packets.some((p) => p.startsWith('42["auth-success"')), 3000, 'auth-success');
  }

  async request(event: string, payload: unknown): Promise<unknown> {
    const id = this.ackId++;
    this.ws.send(`42${id}${JSON.stringify([event, payload])}`);
    let found: string | undefined;
    await until(() => (found = this.packets.find((p) => p.startsWith(`43${id}[`))) !== undefined, 3000, `ack ${id}`);
    return (JSON.parse(found!.slice(`43${id}`.length)) as unknown[])[0];
  }

  /** the underlying TCP socket: pausing it stops reading, so the server's writes back up */
  get tcp(): NetSocket {
    return (this.ws as unknown as { _socket: NetSocket })._socket;
  }

  events(name: string): unknown[] {
    const prefix = `42["${name}",`;
    return this.packets.filter((p) => p.startsWith(prefix)).map((p) => (JSON.parse(p.slice(2)) as unknown[])[1]);
  }
}

