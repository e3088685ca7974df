/**
 * One process: the SQLite store in DATA_DIR (locked: one server per folder), the trading core in
 * this process, and a bus that hands each committed event straight to this process's gateway.
 * Nothing to connect to, nothing to lose between a commit and its delivery.
 */
import type { Logger } from 'pino';
import { describeStream } from '@qx/protocol';
import type { Config } from '../../config.js';
import type { Metrics } from '../../metrics.js';
import { dataDirError, lockDataDir } from '../../store/sqlite/data-dir.js';
import { loadDemoSecret } from '../../auth/demo-secret.js';
import { SqliteStore } from '../../store/sqlite/sqlite-store.js';
import { createTradingCore } from '../../core/trading-core.js';
import { recoveryAdapter } from './recovery-adapter.js';
import type { Backplane, EventBus, GatewayPort, StreamFeed } from '../backplane.js';
import { controlMessageSchema } from '../control-message.js';
import { LocalTrading } from './local-trading.js';
import { LocalPresence } from './local-presence.js';

export interface InProcessDeps {
  logger: Logger;
  metrics: Metrics;
  now: () => number;
  /** the store failed: the process must stop (main.ts exits) */
  onFatal: (err: unknown) => void;
}

export function openInProcessBackplane(config: Config, deps: InProcessDeps): Backplane {
  const { logger } = deps;
  // one server per data folder: a second one stops here, before it touches the store
  const dataDirLock = config.dataDir === ':memory:' ? null : lockDataDir(config.dataDir);
  let store: SqliteStore;
  try {
    store = new SqliteStore(config.dataDir, logger.child({ part: 'store' }));
  } catch (err) {
    dataDirLock?.release();
    throw dataDirError(config.dataDir, err);
  }
  let demoSecret: string | null;
  try {
    // demo tokens outlive a restart: the secret is kept in DATA_DIR
    demoSecret = config.auth.demo ? loadDemoSecret(config.dataDir) : null;
  } catch (err) {
    void store.close();
    dataDirLock?.release();
    throw err;
  }
  // one process always leads its own engine; its store's disk is this node's
  deps.metrics.trackEngine(() => true);
  if (config.dataDir !== ':memory:') deps.metrics.trackDataDir(config.dataDir);
  let port: GatewayPort | null = null;
  const bus: EventBus = { publish: (events) => port?.deliver(events) };
  const core = createTradingCore({
    config,
    store,
    bus,
    metrics: deps.metrics,
    logger,
    now: deps.now,
    tapeSeqs: () => store.tape.lastSeqs(),
    // one process: only its own connections live (those journaled by an earlier run are gone with it)
    liveNodes: (nodes) => Promise.resolve(new Set(nodes.filter((n) => n === config.nodeId))),
    onFatal: deps.onFatal,
  });
  // a `trades-` stream is numbered in the tape, every other durable stream in the event log
  const lastSeq = (stream: string): Promise<number> => {
    const info = describeStream(stream);
    return info?.kind === 'tape' ? store.tape.lastSeq(info.commodity) : settleNow(() => store.lastSeqNow(stream));
  };
  const feed: StreamFeed = {
    listen: () => undefined,
    unlisten: () => undefined,
    // committed is delivered: the bus hands every event over as it is committed
    follow: lastSeq,
    read: (stream, afterSeq, limit) => store.readEvents(stream, afterSeq, limit),
    lastSeq,
    // the book as it stands: its changes since the last tick are published first (null before any)
    book: (commodity) => {
      core.books.tick();
      const state = core.books.state(commodity);
      return Promise.resolve(state && state.seq > 0 ? state : null);
    },
  };
  let closed = false;
  return {
    name: 'in-process',
    store,
    tape: store.tape,
    sink: core.committer,
    trading: new LocalTrading(core.trading, core.exchange),
    feed,
    control: {
      // one node: acting here is telling every node
      send: (message) =>
        settleNow(() => {
          port?.control(controlMessageSchema.parse(message));
          return true;
        }),
    },
    presence: new LocalPresence(),
    sessions: { adapter: (canRecover) => recoveryAdapter(canRecover), touch: () => undefined },
    demoSecret,
    publishApiKey: null,
    local: { trading: core.trading, exchange: core.exchange, db: store.db, tickBooks: () => core.books.tick() },
    describe: () => undefined,
    ready: () => store.open,
    async start(gateway) {
      port = gateway;
      await core.start();
      // the latest price of each commodity, for the first subscribers (newer ones published since win)
      gateway.deliver(core.committer.latestMarketEvents());
    },
    stopping() {
      core.trading.close();
    },
    async close() {
      if (closed) return;
      closed = true;
      await core.close();
      port = null;
      await store.close();
      dataDirLock?.release();
    },
  };
}

/** `fn`'s value now, as a settled promise (a throw as a rejection). */
function settleNow<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
