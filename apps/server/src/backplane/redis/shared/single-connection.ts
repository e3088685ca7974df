/** One Redis node (node-redis `createClient`) as a RedisConnection. */
import type { Logger } from 'pino';
import { RedisConnection, SCAN_COUNT, watchErrors, type PubSubListener, type RedisClient, type RedisCommands } from './connection.js';

export class SingleConnection extends RedisConnection {
  readonly mode = 'single';
  private readyOnce: boolean;

  constructor(
    readonly client: RedisClient,
    owned: boolean,
    logger: Logger,
  ) {
    super(owned, logger);
    this.readyOnce = client.isReady;
    client.on('ready', () => {
      // the first 'ready' was the initial connect; later ones follow a reconnect (subscriptions renewed by then)
      if (!this.readyOnce) {
        this.readyOnce = true;
        return;
      }
      if (!this.closed) this.emit('reconnected', undefined);
    });
  }

  get commands(): RedisCommands {
    return this.client;
  }

  get isReady(): boolean {
    return this.client.isReady;
  }

  async open(): Promise<void> {
    if (!this.client.isOpen) await this.client.connect();
  }

  clientFor(): Promise<RedisClient> {
    return Promise.resolve(this.client);
  }

  async scan(pattern: string): Promise<string[]> {
    const out: string[] = [];
    for await (const keys of this.client.scanIterator({ MATCH: pattern, COUNT: SCAN_COUNT })) out.push(...keys);
    return out;
  }

  sSubscribe(channel: string, listener: PubSubListener): Promise<void> {
    return this.client.sSubscribe(channel, listener);
  }

  sUnsubscribe(channel: string, listener: PubSubListener): Promise<void> {
    return this.client.sUnsubscribe(channel, listener);
  }

  duplicate(name: string): RedisConnection {
    const client = this.client.duplicate({ name });
    watchErrors(client, this.logger.child({ redis: name }));
    return new SingleConnection(client, true, this.logger);
  }

  destroy(): void {
    this.closed = true;
    if (this.client.isOpen) this.client.destroy();
  }

  protected async close(): Promise<void> {
    this.client.removeAllListeners('ready');
    if (this.client.isOpen) await this.client.close();
  }

  protected send(_key: string | undefined, args: string[]): Promise<unknown> {
    return this.client.sendCommand(args);
  }
}
