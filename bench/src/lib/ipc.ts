/**
 * Request/response over a child's IPC channel: the parent asks, the child answers with the same
 * id. Both ends stay typed by one request map shared by the two files.
 */
import type { ChildProcess } from 'node:child_process';

interface Envelope {
  id: number;
  body?: unknown;
  error?: string;
}

export type Handler = (request: unknown) => unknown;

export class IpcClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(
    private readonly child: ChildProcess,
    private readonly label: string,
  ) {
    child.on('message', (message: Envelope) => {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.error !== undefined) waiter.reject(new Error(`${label}: ${message.error}`));
      else waiter.resolve(message.body);
    });
    child.once('exit', (code, signal) => {
      const error = new Error(`${label} exited (${signal ?? code ?? 'unknown'})`);
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    });
  }

  request<T>(body: unknown, timeoutMs = 60_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.label}: no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ id, body } satisfies Envelope);
    });
  }
}

/**
 * The child's side: answers each request with `handler`'s result, and exits when the parent goes
 * away or after `maxLifetimeMs`, so an orphan never lingers.
 */
export function serveIpc(handler: Handler, maxLifetimeMs: number): void {
  process.on('message', (message: Envelope) => {
    Promise.resolve()
      .then(() => handler(message.body))
      .then(
        (body) => process.send?.({ id: message.id, body } satisfies Envelope),
        (error: unknown) => process.send?.({ id: message.id, error: error instanceof Error ? error.message : String(error) } satisfies Envelope),
      );
  });
  process.once('disconnect', () => process.exit(0));
  setTimeout(() => {
    process.stderr.write(`bench child ${process.pid}: lifetime of ${maxLifetimeMs} ms reached, exiting\n`);
    process.exit(3);
  }, maxLifetimeMs).unref();
}
