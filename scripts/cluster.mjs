#!/usr/bin/env node
// A local cluster on this machine's PostgreSQL and Redis, to try cluster mode: 2 engines (one leads,
// one stands by), 3 gateways, and nginx in front on one port. `npm run cluster` builds first.
// Settings: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/quantenergx, created if missing),
// REDIS_URL (default redis://127.0.0.1:6379), CLUSTER_PORT (nginx, default 8080), GATEWAY_PORTS
// (default 3101,3102,3103). Other settings (JWT_SECRET, SIMULATOR, ...) pass through to every node.
// Ctrl-C stops everything.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const env = process.env;
const databaseUrl = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/quantenergx';
const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const listenPort = Number(env.CLUSTER_PORT ?? 8080);
const gatewayPorts = (env.GATEWAY_PORTS ?? '3101,3102,3103').split(',').map(Number);
const children = [];

function fail(message) {
  process.stderr.write(`cluster: ${message}\n`);
  stop(1);
}

async function ensureDatabase() {
  const { default: pg } = await import('pg');
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  const admin = new pg.Client({ connectionString: Object.assign(new URL(databaseUrl), { pathname: '/postgres' }).toString() });
  try {
    await admin.connect();
  } catch (err) {
    fail(`PostgreSQL at ${url.host} cannot be reached (${err.message}); set DATABASE_URL`);
  }
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (exists.rowCount === 0) {
    await admin.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
    process.stdout.write(`cluster: created database ${name}\n`);
  }
  await admin.end();
}

function start(name, role, extra) {
  const child = spawn(process.execPath, [join(root, 'apps/server/dist/main.js')], {
    cwd: root,
    env: { ...env, ROLE: role, NODE_ID: name, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, HOST: '127.0.0.1', ...extra },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.on('data', (d) => {
    for (const line of d.toString().split('\n')) if (line) process.stdout.write(`[${name}] ${line}\n`);
  });
  child.on('exit', (code, signal) => {
    process.stdout.write(`cluster: ${name} exited (${code ?? signal})\n`);
  });
  children.push(child);
  return child;
}

function startNginx() {
  const nginx = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => spawnSync('test', ['-x', p]).status === 0);
  if (!nginx) {
    process.stdout.write(`cluster: nginx is not installed (apt-get install nginx): connect to a gateway directly (${gatewayPorts.join(', ')})\n`);
    return null;
  }
  const prefix = mkdtempSync(join(tmpdir(), 'qx-cluster-nginx-'));
  chmodSync(prefix, 0o755);
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(prefix, 'tmp', d), { recursive: true, mode: 0o777 });
  const upstreams = gatewayPorts.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=10s;`).join('\n');
  const conf = readFileSync(join(root, 'deploy/nginx.conf.template'), 'utf8')
    .replaceAll('{{PREFIX}}', prefix)
    .replaceAll('{{LISTEN}}', `0.0.0.0:${listenPort}`)
    .replace('{{UPSTREAMS}}', upstreams);
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  const child = spawn(nginx, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'inherit' });
  child.on('exit', () => rmSync(prefix, { recursive: true, force: true }));
  children.push(child);
  return child;
}

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 7000).unref();
  Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null))).then(() => process.exit(code));
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

await ensureDatabase();
start('engine-1', 'engine', { PORT: '3201' });
start('engine-2', 'engine', { PORT: '3202' });
gatewayPorts.forEach((port, i) => start(`gateway-${i + 1}`, 'gateway', { PORT: String(port) }));
const nginx = startNginx();
process.stdout.write(
  `cluster: engines on :3201 and :3202 (/health shows the leader), gateways on ${gatewayPorts.map((p) => `:${p}`).join(' ')}` +
    (nginx ? `, all behind nginx on http://localhost:${listenPort}` : '') +
    '\ncluster: Ctrl-C stops everything\n',
);
