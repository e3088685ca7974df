/**
 * Entry point of a client process (load clients or probes): holds one Fleet of sockets and
 * answers the harness over IPC. Reports its own CPU so a reader can see when the load generator,
 * not the server, is the limit.
 */
import { serveIpc } from '../lib/ipc.js';
import { maxLifetimeMs } from '../lib/lifetime.js';
import { readRssKiB, selfCpuUs } from '../lib/proc-stats.js';
import { Fleet } from './fleet.js';
import { OrderProbe } from './order-probe.js';
import type { WorkerRequest, WorkerStats } from './worker-protocol.js';

let fleet: Fleet | null = null;
let probe: OrderProbe | null = null;

function requireFleet(): Fleet {
  if (!fleet) throw new Error('not connected');
  return fleet;
}

function stats(resetLatency: boolean): WorkerStats {
  const f = requireFleet();
  const result: WorkerStats = {
    pid: process.pid,
    cpuUs: selfCpuUs(),
    rssKiB: readRssKiB(process.pid),
    normal: f.groupStats(false),
    slow: f.groupStats(true),
    latency: f.latency.toSparse(),
    orders: probe?.stats() ?? { placed: 0, answered: 0, status: 'idle', httpStatuses: {}, latency: [], socket: null },
    failover: f.failoverStats(),
    markReceivedAt: f.markReceivedAt,
  };
  if (resetLatency) f.latency.reset();
  return result;
}

serveIpc(async (raw) => {
  const request = raw as WorkerRequest;
  switch (request.type) {
    case 'connect':
      fleet = new Fleet(request.config);
      return fleet.connectAll();
    case 'stats':
      return stats(request.resetLatency);
    case 'pause':
      requireFleet().pause(request.count);
      return null;
    case 'resume':
      requireFleet().resume();
      return null;
    case 'cycle':
      return requireFleet().cycle(request.count);
    case 'orders':
      probe = new OrderProbe(requireFleet());
      await probe.run(request.config);
      return probe.stats();
    case 'mark':
      requireFleet().mark(request.sentAt);
      return null;
    case 'close':
      fleet?.closeAll();
      setTimeout(() => process.exit(0), 50);
      return null;
  }
}, maxLifetimeMs());
