/**
 * Runs the real server entry point (apps/server/src/main.ts) as a child process, for tests that
 * must kill it (SIGTERM, kill -9) or restart it on the same data folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export interface SpawnedServer {
  child: ChildProcess;
  url: string;
  port: number;
  /** where /metrics, /health and /ready answer when ADMIN_PORT is set (else null) */
  adminUrl: string | null;
  /** resolves with the exit code (or signal name) */
  exited: Promise<number | string>;
  logs: string[];
}

export async function spawnServer(env: Record<string, string>, timeoutMs = 60_000): Promise<SpawnedServer> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SIMULATOR: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let adminUrl: string | null = null;
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // a server that did not start in time must not outlive the test
      reject(new Error(`server did not start in ${timeoutMs} ms:\n${logs.join('\n')}`));
    }, timeoutMs);
    child.stderr.on('data', (d: Buffer) => logs.push(d.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      logs.push(line);
      // the admin listener starts first (its own line), then the public one
      if (line.includes('"msg":"internal endpoints listening')) adminUrl = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
      if (line.includes('"msg":"listening"')) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${logs.join('\n')}`));
    });
  });
  return { child, url: `http://127.0.0.1:${port}`, port, adminUrl, exited, logs };
}
