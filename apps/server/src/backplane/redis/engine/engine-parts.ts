/** What an engine node opens: the cluster's common parts and its leadership campaign. */
import type { Logger } from 'pino';
import type { ClusterConfig } from '../../../config.js';
import { closeAll, openCommon, type ClusterCommon } from '../shared/cluster-common.js';
import { EngineLeadership } from './leadership.js';

export interface EngineParts extends ClusterCommon {
  leadership: EngineLeadership;
  close(): Promise<void>;
}

export async function openEngineParts(cluster: ClusterConfig, logger: Logger): Promise<EngineParts> {
  const { common, closers } = await openCommon(cluster, logger, 'engine');
  const leadership = new EngineLeadership({
    connectionString: cluster.databaseUrl,
    nodeId: cluster.nodeId,
    leaseMs: cluster.engineLeaseMs,
    logger: logger.child({ part: 'leadership' }),
  });
  closers.push(() => leadership.stop());
  return { ...common, leadership, close: closeAll(closers) };
}
