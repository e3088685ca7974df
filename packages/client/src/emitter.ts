/** A small typed event emitter (no `node:events`, so the SDK runs in browsers as it is). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Listener = (...args: any[]) => void;

export class TypedEmitter<Events extends { [K in keyof Events]: Listener }> {
  private readonly listeners = new Map<keyof Events, Set<Listener>>();

  /** Adds a listener; returns a function that removes it. */
  on<E extends keyof Events>(event: E, listener: Events[E]): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => this.off(event, listener);
  }

  once<E extends keyof Events>(event: E, listener: Events[E]): () => void {
    const off = this.on(event, ((...args: Parameters<Events[E]>) => {
      off();
      listener(...args);
    }) as Events[E]);
    return off;
  }

  off<E extends keyof Events>(event: E, listener: Events[E]): void {
    this.listeners.get(event)?.delete(listener);
  }

  removeAllListeners(): void {
    this.listeners.clear();
  }

  listenerCount(event: keyof Events): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  /**
   * Calls every listener; one that throws does not stop the others, and its error is handed to
   * `onListenerError` (a listener's bug must not break the client's bookkeeping).
   */
  protected emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (err) {
        this.onListenerError(err, event);
      }
    }
  }

  protected onListenerError(_err: unknown, _event: keyof Events): void {
    /* overridden by the client */
  }
}
