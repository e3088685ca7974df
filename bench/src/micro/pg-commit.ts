/**
 * One engine step's commit on PostgreSQL, alone: a writer on its own connection (as the engine
 * leader's) commits one order and its order-update, fenced, one after another. Prints per version
 * the time per commit (p50 / p99) and the CPU per commit of this process and of the PostgreSQL
 * backend (from /proc: PostgreSQL on this machine), this checkout against
 * `BENCH_BEFORE_ROOT` (a built checkout) when it is set, alternating versions round by round.
 *
 *   node bench/dist/micro/pg-commit.js [commits per round, default 3000] [rounds, default 3]
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { createDatabase } from '../cluster/infra.js';
import { repoRoot } from '../lib/paths.js';
import { median, round } from '../lib/stats.js';

interface StepWriter {
  commit(write: unknown, fence: { term: number }): Promise<unknown>;
}
interface PgStoreModule {
  PgStore: {
    open(options: { connectionString: string; max?: number }): Promise<{ withWriter(client: pg.Client): StepWriter; close(): Promise<void> }>;
    clientConfig(url: string): pg.ClientConfig;
  };
}

interface Round {
  msPerCommit: number;
  p50: number;
  p99: number;
  cpuUsPerCommit: number;
  /** the PostgreSQL backend serving the writer's connection (same machine: /proc) */
  pgCpuUsPerCommit: number;
}

/** CPU time of a process so far, in µs (user + system; /proc clock ticks of 10 ms). */
function processCpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

async function measure(root: string, commits: number): Promise<Round> {
  const { PgStore } = (await import(pathToFileURL(resolve(root, 'apps/server/dist/store/postgres/pg-store.js')).href)) as PgStoreModule;
  const db = await createDatabase();
  try {
    const store = await PgStore.open({ connectionString: db.url, max: 2 });
    const client = new pg.Client(PgStore.clientConfig(db.url));
    await client.connect();
    try {
      await client.query('UPDATE engine_leader SET term = 1 WHERE id = 1');
      const writer = store.withWriter(client);
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const backend = rows[0]?.pid ?? 0;
      const pgCpu = processCpuUs(backend);
      const latencies: number[] = [];
      const cpu = process.cpuUsage();
      const started = performance.now();
      for (let i = 0; i < commits; i++) {
        const userId = `u${i % 32}`;
        const order = { id: `o-${i}`, priority: i, userId, commodity: 'carbon', status: 'new', clientOrderId: null, side: 'buy', type: 'limit', price: 60, quantity: 1 };
        const t = performance.now();
        await writer.commit(
          {
            journal: [{ kind: 'order', order }],
            events: [{ stream: `orders-${userId}`, event: 'order-update', createdAt: Date.now(), render: (seq: number) => JSON.stringify({ type: 'ORDER_UPDATE', payload: order, userId, seq }) }],
          },
          { term: 1 },
        );
        latencies.push(performance.now() - t);
      }
      const wall = performance.now() - started;
      const used = process.cpuUsage(cpu);
      latencies.sort((a, b) => a - b);
      return {
        msPerCommit: wall / commits,
        p50: latencies[Math.floor(commits / 2)] ?? 0,
        p99: latencies[Math.floor(commits * 0.99)] ?? 0,
        cpuUsPerCommit: (used.user + used.system) / commits,
        pgCpuUsPerCommit: (processCpuUs(backend) - pgCpu) / commits,
      };
    } finally {
      await client.end();
      await store.close();
    }
  } finally {
    await db.drop();
  }
}

const commits = Number(process.argv[2] ?? 3000);
const rounds = Number(process.argv[3] ?? 3);
const versions: [string, string][] = [['now', repoRoot]];
const before = process.env['BENCH_BEFORE_ROOT'];
if (before) versions.unshift(['before', resolve(before)]);
const results = new Map<string, Round[]>(versions.map(([name]) => [name, []]));
for (let r = 0; r < rounds; r++) {
  for (const [name, root] of versions) {
    const result = await measure(root, commits);
    results.get(name)?.push(result);
    console.log(`round ${r + 1} ${name}: ${round(result.msPerCommit, 3)} ms per commit, p50 ${round(result.p50, 3)} / p99 ${round(result.p99, 3)} ms, ${Math.round(result.cpuUsPerCommit)} µs CPU here, ${Math.round(result.pgCpuUsPerCommit)} µs in PostgreSQL`);
  }
}
console.log(`\nmedian of ${rounds} rounds of ${commits} commits`);
const base = before ? median((results.get('before') ?? []).map((x) => x.msPerCommit)) : null;
for (const [name] of versions) {
  const list = results.get(name) ?? [];
  const ms = median(list.map((x) => x.msPerCommit));
  const ratio = base ? ` (÷ before ${round(ms / base, 2)})` : '';
  console.log(
    `${name}: ${round(ms, 3)} ms per commit${ratio}, p50 ${round(median(list.map((x) => x.p50)), 3)} / p99 ${round(median(list.map((x) => x.p99)), 3)} ms, ${Math.round(median(list.map((x) => x.cpuUsPerCommit)))} µs CPU per commit here, ${Math.round(median(list.map((x) => x.pgCpuUsPerCommit)))} µs in PostgreSQL`,
  );
}
