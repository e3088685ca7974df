import { cluster } from './cluster.js';
import { connections } from './connections.js';
import { failover } from './failover.js';
import { fanout } from './fanout.js';
import { latency } from './latency.js';
import { matching } from './matching.js';
import { orders } from './orders.js';
import { resumeStorm } from './resume-storm.js';
import type { Scenario } from './scenario.js';
import { slowConsumer } from './slow-consumer.js';
import { soak } from './soak.js';

/** Every scenario, in the order `npm run bench` runs them. */
export const SCENARIOS: readonly Scenario[] = [fanout, latency, connections, slowConsumer, matching, orders, cluster, failover, resumeStorm];
/** Long runs, only when asked for by name (`--scenario soak`). */
export const ON_REQUEST: readonly Scenario[] = [soak];
