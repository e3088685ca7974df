/**
 * A redis-server of a test's own, on a free port, with no persistence (`--save "" --appendonly no`),
 * so a restart loses every key the way a crashed Redis does. Tests that need one call
 * `redisServerOrSkip(t)`: it skips with a message when redis-server is not installed, except in CI
 * (CI=true), where that is a failure.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { createClient, type RedisClientType } from 'redis';

const REDIS_SERVER = 'redis-server';

/** null when redis-server runs, else why not */
export function redisServerMissing(): string | null {
  const probe = spawnSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' });
  if (probe.error) return probe.error.message;
  if (probe.status !== 0) return (probe.stderr || `exit ${probe.status}`).trim();
  return null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export class RedisTestServer {
  private child: ChildProcess | null = null;
  private output = '';
  private readonly clients: RedisClientType[] = [];

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts a redis-server on a free port and waits until it accepts connections. */
  static async start(): Promise<RedisTestServer> {
    const server = new RedisTestServer(await freePort());
    await server.spawn();
    return server;
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** A connected client for the test to look with (errors ignored; destroyed at stop). */
  async client(): Promise<RedisClientType> {
    const client = createClient({ url: this.url }) as RedisClientType;
    client.on('error', () => {});
    await client.connect();
    this.clients.push(client);
    return client;
  }

  /** Stops the server (SIGTERM, then SIGKILL after 2 s) and waits for it to exit. */
  async stop(): Promise<void> {
    for (const c of this.clients.splice(0)) if (c.isOpen) c.destroy();
    await this.kill('SIGTERM');
  }

  /** kill -9, then a fresh server on the same port: every key is gone (a new epoch). */
  async restart(opts: { downMs?: number } = {}): Promise<void> {
    await this.kill('SIGKILL');
    if (opts.downMs) await new Promise((r) => setTimeout(r, opts.downMs));
    await this.spawn();
  }

  /** kill -9 without starting again (see `startAgain`). */
  async crash(): Promise<void> {
    await this.kill('SIGKILL');
  }

  async startAgain(): Promise<void> {
    if (this.child) throw new Error('redis-server is still running');
    await this.spawn();
  }

  private async spawn(): Promise<void> {
    this.output = '';
    const child = spawn(
      REDIS_SERVER,
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child = child;
    child.once('exit', () => {
      if (this.child === child) this.child = null;
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (this.child !== child) throw new Error(`redis-server on port ${this.port} exited: ${this.output.trim()}`);
      if (await ping(this.port)) return;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`redis-server on port ${this.port} did not start: ${this.output.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  private async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
    if (this.child === child) this.child = null;
  }
}

/** Sends PING over a raw socket; true when +PONG comes back. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let answer = '';
    const done = (ok: boolean) => {
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

/**
 * Starts a redis-server for test `t` (stopped when the test ends), or skips the test with a message
 * when redis-server is not installed — except when CI=true, where that fails the test.
 */
export async function redisServerOrSkip(t: TestContext): Promise<RedisTestServer | null> {
  const missing = redisServerMissing();
  if (missing !== null) {
    if (process.env['CI'] === 'true') throw new Error(`redis-server is required in CI: ${missing}`);
    t.skip(`redis-server not installed: ${missing}`);
    return null;
  }
  const server = await RedisTestServer.start();
  t.after(() => server.stop());
  return server;
}
