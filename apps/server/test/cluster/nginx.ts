/**
 * Debian's nginx in front of the gateways, from deploy/nginx.conf.template — the same file
 * docs/operations.md describes and scripts/cluster.mjs runs — on a port of its own.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../redis-test-server.js';

const TEMPLATE = fileURLToPath(new URL('../../../../deploy/nginx.conf.template', import.meta.url));
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => spawnSync('test', ['-x', p]).status === 0) ?? null;

export function nginxAvailable(): boolean {
  return NGINX !== null;
}

export function renderNginxConf(prefix: string, listen: string, upstreamPorts: readonly number[]): string {
  const upstreams = upstreamPorts.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=10s;`).join('\n');
  return readFileSync(TEMPLATE, 'utf8').replaceAll('{{PREFIX}}', prefix).replaceAll('{{LISTEN}}', listen).replace('{{UPSTREAMS}}', upstreams);
}

export interface Nginx {
  url: string;
  port: number;
  child: ChildProcess;
  close(): Promise<void>;
}

export async function startNginx(upstreamPorts: readonly number[]): Promise<Nginx> {
  if (!NGINX) throw new Error('nginx is not installed (apt-get install nginx)');
  const prefix = mkdtempSync(join(tmpdir(), 'qx-nginx-'));
  chmodSync(prefix, 0o755);
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(prefix, 'tmp', d), { recursive: true, mode: 0o777 });
  const port = await freePort();
  writeFileSync(join(prefix, 'nginx.conf'), renderNginxConf(prefix, `127.0.0.1:${port}`, upstreamPorts));
  const child = spawn(NGINX, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr.join('')}${readFileSync(join(prefix, 'error.log'), 'utf8')}`);
    try {
      await fetch(`http://127.0.0.1:${port}/health`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not start: ${stderr.join('')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    async close() {
      // SIGTERM: the master stops its workers and exits (SIGKILL of the master left the workers
      // running, holding the port); SIGKILL only if it has not gone in 5 s
      if (child.exitCode === null) child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(forced);
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
