/**
 * What a cluster benchmark runs on: a redis-server of its own (started by the bench on a free
 * port, so its CPU is measured like any server process, and restartable for the fail-over
 * scenario) and a fresh PostgreSQL database (created for the run, dropped after it).
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Socket } from 'node:net';
import pg from 'pg';
import { spawnTracked } from '../lib/children.js';
import { freePort } from '../lib/free-port.js';

/** The PostgreSQL server to create databases on (the test helpers' default and variable). */
export const PG_ADMIN_URL = process.env['BENCH_PG_URL'] ?? process.env['QX_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_SERVER = process.env['BENCH_REDIS_SERVER'] ?? 'redis-server';

/** null when redis-server and PostgreSQL are both there, else what is missing. */
export async function clusterInfraMissing(): Promise<string | null> {
  const probe = spawnSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return `redis-server not runnable (${probe.error?.message ?? probe.stderr.trim()})`;
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return `PostgreSQL not reachable at ${PG_ADMIN_URL} (${err instanceof Error ? err.message : String(err)})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createDatabase(): Promise<BenchDatabase> {
  const name = `qx_bench_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string): Promise<void> => {
    const c = new pg.Client({ connectionString: PG_ADMIN_URL });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** A redis-server without persistence: a restart loses every key, as a crashed Redis does. */
export class BenchRedis {
  private child: ChildProcess | null = null;

  private constructor(readonly port: number) {}

  static async start(): Promise<BenchRedis> {
    const redis = new BenchRedis(await freePort());
    await redis.spawn();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error('redis-server is not running');
    return pid;
  }

  /** kill -9 (resolves once it has exited) */
  async crash(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await exited;
  }

  /** a fresh server on the same port; resolves when it answers PING */
  async startAgain(): Promise<void> {
    if (this.child) throw new Error('redis-server is still running');
    await this.spawn();
  }

  stop(): Promise<void> {
    return this.crash();
  }

  private async spawn(): Promise<void> {
    let output = '';
    const child = spawnTracked(
      REDIS_SERVER,
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning', '--maxclients', '10000'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    this.child = child;
    const deadline = performance.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server on ${this.port} exited: ${output.trim()}`);
      if (await ping(this.port)) return;
      if (performance.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`redis-server on ${this.port} did not start: ${output.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let answer = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (d: Buffer) => {
      answer += d.toString();
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}
