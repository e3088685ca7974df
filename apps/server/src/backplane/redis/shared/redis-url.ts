/**
 * Where the bus is: one Redis (`redis://host:6379`, `rediss://` for TLS) or a Redis Cluster
 * (`redis+cluster://host:7000,host:7001`, `rediss+cluster://` for TLS; the hosts are seeds, the
 * client discovers the rest). Credentials go before the hosts as in any URL
 * (`redis+cluster://user:secret@host:7000,host:7001`). `REDIS_CLUSTER_NODES=host:7000,host:7001`
 * is the same as the `redis+cluster://` URL of those seeds.
 */

export interface RedisNodeAddress {
  host: string;
  port: number;
}

export type RedisTarget =
  | { mode: 'single'; url: string }
  | { mode: 'cluster'; tls: boolean; username?: string; password?: string; nodes: RedisNodeAddress[] };

const SINGLE = /^rediss?:\/\//;
const CLUSTER = /^(rediss?)\+cluster:\/\/(?:([^@/?#]*)@)?([^/?#@]*)\/?$/;

/** A seed `host:port` (an IPv6 host in brackets: `[::1]:7000`); null when it is not one. */
export function parseNodeAddress(text: string): RedisNodeAddress | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9_.-]+)):(\d{1,5})$/.exec(text.trim());
  if (!m) return null;
  const port = Number(m[3]);
  if (!(port >= 1 && port <= 65535)) return null;
  return { host: (m[1] ?? m[2]) as string, port };
}

/** Parses a Redis URL; `{error}` says what is wrong with it. */
export function parseRedisUrl(url: string): RedisTarget | { error: string } {
  if (SINGLE.test(url)) {
    try {
      new URL(url);
    } catch {
      return { error: 'not a valid URL' };
    }
    return { mode: 'single', url };
  }
  const m = CLUSTER.exec(url);
  if (!m) return { error: 'must be a redis://, rediss://, redis+cluster:// or rediss+cluster:// URL' };
  const nodes: RedisNodeAddress[] = [];
  for (const part of (m[3] as string).split(',')) {
    const node = parseNodeAddress(part);
    if (!node) return { error: `${part === '' ? 'an empty seed' : `"${part}"`} is not host:port` };
    nodes.push(node);
  }
  const target: RedisTarget = { mode: 'cluster', tls: m[1] === 'rediss', nodes };
  if (m[2] !== undefined) {
    const colon = m[2].indexOf(':');
    const user = decodeURIComponent(colon < 0 ? m[2] : m[2].slice(0, colon));
    if (user) target.username = user;
    if (colon >= 0) target.password = decodeURIComponent(m[2].slice(colon + 1));
  }
  return target;
}

/** `REDIS_CLUSTER_NODES` (comma-separated `host:port` seeds) as the `redis+cluster://` URL it stands for. */
export function clusterNodesUrl(nodes: string): string | { error: string } {
  const seeds = nodes.split(',').map((s) => s.trim());
  for (const seed of seeds) if (!parseNodeAddress(seed)) return { error: `${seed === '' ? 'an empty seed' : `"${seed}"`} is not host:port` };
  return `redis+cluster://${seeds.join(',')}`;
}

/** The URL with its password replaced by `***` (for logs and --check-config). */
export function maskRedisUrl(url: string): string {
  const target = parseRedisUrl(url);
  if ('error' in target) return '***';
  if (target.mode === 'single') {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  }
  const scheme = target.tls ? 'rediss+cluster' : 'redis+cluster';
  const auth = target.password !== undefined ? `${target.username ?? ''}:***@` : target.username ? `${target.username}@` : '';
  return `${scheme}://${auth}${target.nodes.map(formatNodeAddress).join(',')}`;
}

export function formatNodeAddress(node: RedisNodeAddress): string {
  return node.host.includes(':') ? `[${node.host}]:${node.port}` : `${node.host}:${node.port}`;
}
