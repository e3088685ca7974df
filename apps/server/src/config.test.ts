import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './config.js';

const files: Record<string, string> = {
  'bad-catalogue.json': JSON.stringify([{ symbol: 'Crude Oil', name: '', unit: 'bbl', currency: 'USD', tickSize: 0 }]),
  'not-json.json': '{',
  'ok-catalogue.json': JSON.stringify([
    { symbol: 'crude_oil', name: 'WTI', unit: 'bbl', currency: 'USD', tickSize: 0.01, contractSize: 1000, referencePrice: 75, positionLimit: 1000, maxOrderSize: 100 },
  ]),
};
const read = (path: string): string => {
  const text = files[path];
  if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
  return text;
};

test('defaults: demo mode, port 3001, the default catalogue; the result is frozen', () => {
  const r = parseConfig({});
  assert.ok(r.ok);
  assert.equal(r.config.port, 3001);
  assert.equal(r.config.auth.demo, true);
  assert.equal(r.config.limits.maxEventsPerSecond, 50);
  assert.ok(r.config.commodities.some((c) => c.symbol === 'crude_oil'));
  assert.ok(Object.isFrozen(r.config));
  assert.ok(Object.isFrozen(r.config.limits));
  assert.throws(() => {
    (r.config.limits as { maxEventsPerSecond: number }).maxEventsPerSecond = 1;
  });
});

test('values are parsed: numbers, booleans, JWT settings; empty strings count as unset', () => {
  const r = parseConfig({
    PORT: '8080',
    JWT_SECRET: 's'.repeat(32),
    JWT_ISSUER: 'https://idp',
    JWT_AUDIENCE: 'qx',
    TRUST_PROXY: 'yes',
    MAX_PAYLOAD_BYTES: '1024',
    JWKS_URL: '',
    COMMODITIES_FILE: 'ok-catalogue.json',
  }, read);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  assert.equal(r.config.port, 8080);
  assert.equal(r.config.auth.demo, false);
  assert.equal(r.config.auth.secret, 's'.repeat(32));
  assert.equal(r.config.auth.issuer, 'https://idp');
  // `true`: one proxy in front (the TCP peer), never the whole client-written header
  assert.deepEqual(r.config.trustProxy, { kind: 'hops', hops: 1 });
  assert.equal(r.config.limits.maxPayloadBytes, 1024);
  assert.deepEqual(r.config.commodities.map((c) => c.symbol), ['crude_oil']);
});

test('every bad value is reported at once, not just the first', () => {
  const r = parseConfig(
    {
      PORT: 'eighty',
      LOG_LEVEL: 'loud',
      JWT_SECRET: 'short',
      JWKS_URL: 'not a url',
      PUBLISH_API_KEY: 'tiny',
      TRUST_PROXY: 'maybe',
      MAX_PAYLOAD_BYTES: '10',
      MAX_EVENTS_PER_SECOND: '0',
      RECOVERY_WINDOW_MS: '-1',
      JWT_ALGORITHMS: 'RS256,HS256,none',
      COMMODITIES_FILE: 'bad-catalogue.json',
    },
    read,
  );
  assert.equal(r.ok, false);
  if (r.ok) return;
  const named = (key: string) => r.errors.filter((e) => e.startsWith(`${key}:`) || e.startsWith(`${key} `));
  for (const key of [
    'PORT',
    'LOG_LEVEL',
    'JWT_SECRET',
    'JWKS_URL',
    'TRUST_PROXY',
    'MAX_PAYLOAD_BYTES',
    'MAX_EVENTS_PER_SECOND',
    'RECOVERY_WINDOW_MS',
    'COMMODITIES_FILE',
  ]) {
    assert.ok(named(key).length >= 1, `${key} not reported in:\n${r.errors.join('\n')}`);
  }
  assert.deepEqual(named('JWT_ALGORITHMS'), [
    'JWT_ALGORITHMS: HS256 is not an asymmetric JWS algorithm',
    'JWT_ALGORITHMS: none is not an asymmetric JWS algorithm',
  ]);
  assert.ok(r.errors.includes('JWT_SECRET and JWKS_URL: set one, not both'), r.errors.join('\n'));
});

test('a short secret or publish key starts the server, with a warning', () => {
  const r = parseConfig({ JWT_SECRET: 'short', PUBLISH_API_KEY: 'tiny' });
  assert.equal(r.ok, true);
  if (!r.ok) return;
  assert.equal(r.config.auth.secret, 'short');
  assert.deepEqual(r.warnings.map((w) => w.split(' ')[0]), ['JWT_SECRET', 'PUBLISH_API_KEY']);
});

test('cross-field and file problems', () => {
  const both = parseConfig({ JWT_SECRET: 's'.repeat(32), JWKS_URL: 'https://idp.example/jwks.json' });
  assert.deepEqual(both, { ok: false, errors: ['JWT_SECRET and JWKS_URL: set one, not both'] });
  const missing = parseConfig({ COMMODITIES_FILE: 'nope.json' }, read);
  assert.equal(missing.ok, false);
  if (!missing.ok) assert.match(missing.errors[0] ?? '', /^COMMODITIES_FILE: ENOENT/);
  const garbled = parseConfig({ COMMODITIES_FILE: 'not-json.json' }, read);
  assert.equal(garbled.ok, false);
  if (!garbled.ok) assert.match(garbled.errors[0] ?? '', /^COMMODITIES_FILE: /);
});

test('a misspelled setting is reported as a warning, unrelated variables are not', () => {
  const result = parseConfig({ MAX_EVENT_PER_SECOND: '10', JWT_SECERT: 'x', PATH: '/usr/bin', HOSTNAME: 'box', MAX_EVENTS_PER_SECOND: '10' });
  assert.equal(result.ok, true);
  if (!result.ok) return;
  assert.deepEqual(
    result.warnings.map((w) => w.split(' ')[0]),
    ['MAX_EVENT_PER_SECOND', 'JWT_SECERT', 'demo', 'PUBLISH_API_KEY'],
  );
});

test('cluster mode: on with DATABASE_URL and REDIS_URL; a cluster role without them names what is missing', () => {
  const none = parseConfig({});
  assert.ok(none.ok);
  assert.equal(none.config.role, 'all');
  assert.equal(none.config.cluster, null);

  const on = parseConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1/qx', REDIS_URL: 'redis://127.0.0.1:6379', ROLE: 'gateway', NODE_ID: 'gw-1' });
  assert.ok(on.ok);
  assert.equal(on.config.role, 'gateway');
  assert.deepEqual(on.config.cluster, {
    databaseUrl: 'postgres://postgres@127.0.0.1/qx',
    redisUrl: 'redis://127.0.0.1:6379',
    nodeId: 'gw-1',
    engineTimeoutMs: 3000,
    engineLeaseMs: 2000,
    historyMaxLen: 10_000,
    historyTtlSeconds: 86_400,
  });

  const engineAlone = parseConfig({ ROLE: 'engine' });
  assert.ok(!engineAlone.ok);
  assert.ok(engineAlone.errors.some((e) => e.startsWith('ROLE=engine') && e.includes('DATABASE_URL') && e.includes('REDIS_URL')), engineAlone.errors.join('\n'));

  const half = parseConfig({ ROLE: 'gateway', REDIS_URL: 'redis://127.0.0.1:6379' });
  assert.ok(!half.ok);
  assert.ok(half.errors.some((e) => e.startsWith('DATABASE_URL:')), half.errors.join('\n'));

  const bad = parseConfig({ DATABASE_URL: 'mysql://x', REDIS_URL: 'http://x', ROLE: 'leader' });
  assert.ok(!bad.ok);
  assert.deepEqual(bad.errors.map((e) => e.split(':')[0]).sort(), ['DATABASE_URL', 'REDIS_URL', 'ROLE']);
});

test('TRUST_PROXY: false, true, a hop count, or proxy addresses/CIDRs', () => {
  const trust = (v: string) => {
    const r = parseConfig({ TRUST_PROXY: v });
    return r.ok ? r.config.trustProxy : r.errors;
  };
  assert.deepEqual(trust('false'), { kind: 'none' });
  assert.deepEqual(trust('0'), { kind: 'none' });
  assert.deepEqual(trust('true'), { kind: 'hops', hops: 1 });
  assert.deepEqual(trust('2'), { kind: 'hops', hops: 2 });
  assert.deepEqual(trust('10.0.0.0/8, 192.168.1.7,loopback'), { kind: 'addresses', addresses: ['10.0.0.0/8', '192.168.1.7', 'loopback'] });
  assert.deepEqual(trust('10.0.0.0/33'), ['TRUST_PROXY: 10.0.0.0/33 is not an IP address, a CIDR range, loopback, linklocal or uniquelocal']);
  assert.deepEqual(trust('99'), ['TRUST_PROXY: a hop count must be at most 32']);
});

test("warnings name only what concerns the node: an engine needs no JWT_SECRET or PUBLISH_API_KEY; Node's own NODE_* variables are not ours", () => {
  const cluster = { DATABASE_URL: 'postgres://postgres@127.0.0.1/qx', REDIS_URL: 'redis://127.0.0.1:6379' };
  const engine = parseConfig({ ...cluster, ROLE: 'engine', NODE_ENV: 'production', NODE_OPTIONS: '--max-old-space-size=512' });
  assert.ok(engine.ok);
  assert.deepEqual(engine.warnings, []);
  const gateway = parseConfig({ ...cluster, ROLE: 'gateway', JWT_SECRET: 'x'.repeat(32), NODE_EXTRA_CA_CERTS: '/etc/ca.pem' });
  assert.ok(gateway.ok);
  assert.deepEqual(gateway.warnings, ['PUBLISH_API_KEY not set: the gateways share a random key kept in Redis (and logged)']);
  const typo = parseConfig({ ...cluster, ROLE: 'gateway', JWT_SECRET: 'x'.repeat(32), PUBLISH_API_KEY: 'k'.repeat(16), PUBLISH_APIKEY: 'k' });
  assert.ok(typo.ok);
  assert.deepEqual(typo.warnings.map((w) => w.split(' ')[0]), ['PUBLISH_APIKEY'], 'a misspelt setting is still named');
});

test('a Redis Cluster: REDIS_URL=redis+cluster://seeds, or REDIS_CLUSTER_NODES (the same), not both; bad seeds are named', () => {
  const db = { DATABASE_URL: 'postgres://postgres@127.0.0.1/qx', ROLE: 'gateway', JWT_SECRET: 'x'.repeat(32), PUBLISH_API_KEY: 'k'.repeat(16) };
  const url = parseConfig({ ...db, REDIS_URL: 'redis+cluster://10.0.0.1:7000,10.0.0.2:7000' });
  assert.ok(url.ok);
  assert.equal(url.config.cluster?.redisUrl, 'redis+cluster://10.0.0.1:7000,10.0.0.2:7000');
  const nodes = parseConfig({ ...db, REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7000' });
  assert.ok(nodes.ok);
  assert.equal(nodes.config.cluster?.redisUrl, 'redis+cluster://10.0.0.1:7000,10.0.0.2:7000', 'the seeds become the cluster URL');
  assert.deepEqual(nodes.warnings, []);

  const both = parseConfig({ ...db, REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: '10.0.0.1:7000' });
  assert.ok(!both.ok);
  assert.deepEqual(both.errors, ['REDIS_CLUSTER_NODES: set REDIS_URL or REDIS_CLUSTER_NODES, not both']);
  const badSeeds = parseConfig({ ...db, REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2' });
  assert.ok(!badSeeds.ok);
  assert.deepEqual(badSeeds.errors, ['REDIS_CLUSTER_NODES: must be the Redis Cluster seeds as host:port,host:port']);
  const badUrl = parseConfig({ ...db, REDIS_URL: 'redis+cluster://10.0.0.1' });
  assert.ok(!badUrl.ok);
  assert.match(badUrl.errors.join('\n'), /^REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL, or a Redis Cluster/);
  const alone = parseConfig({ ROLE: 'engine', REDIS_CLUSTER_NODES: '10.0.0.1:7000' });
  assert.ok(!alone.ok);
  assert.ok(alone.errors.some((e) => e.startsWith('DATABASE_URL:')), alone.errors.join('\n'));
});

test('ADMIN_PORT: unset keeps the internal endpoints on the public port; set, they move there (ADMIN_HOST default 127.0.0.1)', () => {
  const none = parseConfig({});
  assert.ok(none.ok);
  assert.equal(none.config.admin, null);
  const set = parseConfig({ ADMIN_PORT: '9100' });
  assert.ok(set.ok);
  assert.deepEqual(set.config.admin, { port: 9100, host: '127.0.0.1' });
  const everywhere = parseConfig({ ADMIN_PORT: '9100', ADMIN_HOST: '0.0.0.0' });
  assert.ok(everywhere.ok);
  assert.deepEqual(everywhere.config.admin, { port: 9100, host: '0.0.0.0' });
  // port 0 (any free port) may be asked for on both
  const any = parseConfig({ PORT: '0', ADMIN_PORT: '0' });
  assert.ok(any.ok);
  assert.deepEqual(any.config.admin, { port: 0, host: '127.0.0.1' });
});

test('ADMIN_PORT: out of range, not a number or the public port is refused; ADMIN_HOST alone is a warning', () => {
  for (const [env, error] of [
    [{ ADMIN_PORT: '70000' }, /^ADMIN_PORT: /],
    [{ ADMIN_PORT: 'metrics' }, /^ADMIN_PORT: /],
    [{ ADMIN_PORT: '3001' }, /^ADMIN_PORT: must differ from PORT \(both 3001\)$/],
    [{ PORT: '8080', ADMIN_PORT: '8080' }, /^ADMIN_PORT: must differ from PORT/],
  ] as const) {
    const r = parseConfig(env);
    assert.equal(r.ok, false, JSON.stringify(env));
    if (!r.ok) assert.ok(r.errors.some((e) => error.test(e)), `${JSON.stringify(env)}: ${r.errors.join('; ')}`);
  }
  const alone = parseConfig({ ADMIN_HOST: '0.0.0.0' });
  assert.ok(alone.ok);
  assert.equal(alone.config.admin, null);
  assert.ok(alone.warnings.some((w) => w.startsWith('ADMIN_HOST is set but ADMIN_PORT is not')));
});
