/**
 * Configuration: every setting comes from one environment variable, is parsed once at start with
 * its problems reported together, and is frozen. `main.ts` is the only reader of process.env.
 */
import { z } from 'zod';
import { DEFAULT_COMMODITIES, type Commodity } from '@qx/protocol';
import { parseTrustProxy, type TrustProxy } from './http/client-address.js';
import { clusterNodesUrl, parseRedisUrl } from './backplane/redis/shared/redis-url.js';

const bool = z.enum(['true', 'false', '1', '0', 'on', 'off', 'yes', 'no']).transform((v) => ['true', '1', 'on', 'yes'].includes(v));
const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);
const optionalString = z.string().min(1).optional();

/** The documented settings: name → schema, with the README's table generated from the same list. */
export const envSchema = z.object({
  PORT: int(3001, 0, 65535),
  HOST: z.string().min(1).default('0.0.0.0'),
  ADMIN_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  ADMIN_HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().min(1).default('./data'),
  JWT_SECRET: z.string().min(1).optional(),
  JWKS_URL: z.url().optional(),
  JWT_ISSUER: optionalString,
  JWT_AUDIENCE: optionalString,
  JWT_ALGORITHMS: z.string().default('RS256,ES256'),
  JWT_ALLOW_NO_EXP: bool.default(false),
  PUBLISH_API_KEY: z.string().min(1).optional(),
  CORS_ORIGIN: z.string().default('*'),
  TRUST_PROXY: z.string().default('false'),
  COMMODITIES_FILE: optionalString,
  SIMULATOR: bool.default(true),
  SIMULATOR_SEED: z.coerce.number().int().optional(),
  MARKET_UPDATES_PER_SECOND: int(4, 1, 1000),
  COMPLIANCE_FILE: optionalString,
  TRADING_SESSION_CLOSE_UTC: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (UTC)').default('22:00'),
  TRADING_SESSION_OPEN_UTC: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (UTC)').optional(),
  CANCEL_ON_DISCONNECT_GRACE_MS: int(0, 0, 3_600_000),
  VELOCITY_HALT_PERCENT: z.coerce.number().min(0).max(100).default(5),
  VELOCITY_HALT_WINDOW_MS: int(60_000, 1000, 3_600_000),
  VELOCITY_HALT_MS: int(120_000, 1000, 86_400_000),
  MAX_PAYLOAD_BYTES: int(16 * 1024, 256, 1024 * 1024),
  PUBLISH_MAX_PAYLOAD_BYTES: int(1024 * 1024, 1024, 64 * 1024 * 1024),
  MAX_EVENTS_PER_SECOND: int(50, 1, 100_000),
  MAX_COMMODITIES_PER_REQUEST: int(32, 1, 1000),
  MAX_SUBSCRIPTIONS_PER_SOCKET: int(64, 1, 10_000),
  MAX_CONNECTIONS_PER_USER: int(20, 1, 1_000_000),
  AUTH_FAILURES_PER_SOCKET: int(5, 1, 1000),
  AUTH_FAILURES_PER_ADDRESS: int(30, 1, 10_000_000),
  AUTH_FAILURE_DELAY_MS: int(1000, 0, 60_000),
  REST_REQUESTS_PER_MINUTE_PER_ADDRESS: int(6000, 1, 10_000_000),
  REST_REQUESTS_PER_MINUTE_PER_USER: int(3000, 1, 10_000_000),
  AUTH_TIMEOUT_MS: int(10_000, 0, 3_600_000),
  MAX_UNAUTHENTICATED_PER_ADDRESS: int(100, 1, 10_000_000),
  SLOW_CONSUMER_BUFFER_BYTES: int(256 * 1024, 1024, 256 * 1024 * 1024),
  SLOW_CONSUMER_MAX_PENDING: int(5000, 10, 10_000_000),
  RECOVERY_WINDOW_MS: int(120_000, 0, 3_600_000),
  PING_INTERVAL_MS: int(25_000, 1000, 300_000),
  PING_TIMEOUT_MS: int(20_000, 1000, 300_000),
  EVENT_LOG_RETENTION_HOURS: int(24 * 7, 1, 24 * 365 * 10),
  TAPE_RETENTION_DAYS: int(30, 1, 3650),
  DEV_TOKEN_TTL_SECONDS: int(3600, 60, 86_400 * 30),
  SHUTDOWN_GRACE_MS: int(5000, 0, 120_000),
  ROLE: z.enum(['all', 'gateway', 'engine']).default('all'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL').optional(),
  REDIS_URL: z
    .string()
    .refine((v) => !('error' in parseRedisUrl(v)), 'must be a redis:// or rediss:// URL, or a Redis Cluster as redis+cluster://host:port,host:port')
    .optional(),
  REDIS_CLUSTER_NODES: z
    .string()
    .refine((v) => typeof clusterNodesUrl(v) === 'string', 'must be the Redis Cluster seeds as host:port,host:port')
    .optional(),
  NODE_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (at most 64)').optional(),
  ENGINE_TIMEOUT_MS: int(3000, 100, 60_000),
  ENGINE_LEASE_MS: int(2000, 500, 60_000),
  HISTORY_MAX_LEN: int(10_000, 100, 10_000_000),
  HISTORY_TTL_SECONDS: int(86_400, 60, 86_400 * 30),
});

export type Env = z.input<typeof envSchema>;

export interface Config {
  port: number;
  host: string;
  /** where /metrics, /health and /ready are served instead of the public port (ADMIN_PORT set); else null */
  admin: { port: number; host: string } | null;
  logLevel: string;
  dataDir: string;
  auth: {
    /** demo mode: neither JWT_SECRET nor JWKS_URL was given; a random secret is made once and kept in DATA_DIR */
    demo: boolean;
    secret?: string;
    jwksUrl?: string;
    issuer?: string;
    audience?: string;
    algorithms: string[];
    /** accept tokens without `exp` (never expiring) */
    allowNoExp: boolean;
    devTokenTtlSeconds: number;
  };
  publishApiKey?: string;
  corsOrigin: string;
  /** which hops of X-Forwarded-For are trusted proxies (proxy-addr semantics) */
  trustProxy: TrustProxy;
  commodities: readonly Commodity[];
  simulator: { enabled: boolean; seed?: number; updatesPerSecond: number };
  trading: {
    /** per-user limit overrides and alert thresholds (the engine's ComplianceConfig) */
    compliance: ComplianceFileConfig;
    /** minutes after midnight UTC when the trading day ends */
    sessionCloseMinuteUtc: number;
    /** minutes after midnight UTC when the next trading day starts (the market is closed in between; equal to the close: no break) */
    sessionOpenMinuteUtc: number;
    /** how long a dropped connection may take to come back (recovered) before its cancel-on-disconnect fires */
    cancelOnDisconnectGraceMs: number;
    /** velocity halts: a move of more than `movePercent` within `windowMs` halts the commodity for `haltMs` (null: off) */
    velocity: { movePercent: number; windowMs: number; haltMs: number } | null;
  };
  /** this process's name in /health, presence, logs and cancel-on-disconnect (NODE_ID, default hostname-pid) */
  nodeId: string;
  limits: {
    maxPayloadBytes: number;
    /** the publish API's body limit (batches of up to 500 events) */
    publishMaxPayloadBytes: number;
    maxEventsPerSecond: number;
    maxCommoditiesPerRequest: number;
    maxSubscriptionsPerSocket: number;
    maxConnectionsPerUser: number;
    authFailuresPerSocket: number;
    authFailuresPerAddress: number;
    /** how long a failing authentication past a failure limit waits for its answer */
    authFailureDelayMs: number;
    restRequestsPerMinutePerAddress: number;
    restRequestsPerMinutePerUser: number;
    authTimeoutMs: number;
    /** sockets from one address that have not authenticated yet */
    maxUnauthenticatedPerAddress: number;
    slowConsumerBufferBytes: number;
    slowConsumerMaxPending: number;
  };
  recoveryWindowMs: number;
  /** Engine.IO's heartbeat: a ping every `intervalMs`; a peer silent `timeoutMs` more is gone (ping timeout) */
  ping: { intervalMs: number; timeoutMs: number };
  eventLogRetentionHours: number;
  /** how long the public tape (market trades, the candles' source) is kept */
  tapeRetentionDays: number;
  shutdownGraceMs: number;
  /** what this process runs: `all` (gateway + engine), `gateway` or `engine` */
  role: Role;
  /** cluster mode (DATABASE_URL and REDIS_URL or REDIS_CLUSTER_NODES set): PostgreSQL is the store, Redis the bus; else null */
  cluster: ClusterConfig | null;
}

export type Role = 'all' | 'gateway' | 'engine';

export interface ClusterConfig {
  databaseUrl: string;
  /** one Redis (`redis://`, `rediss://`) or a Redis Cluster (`redis+cluster://host:port,…`; REDIS_CLUSTER_NODES becomes this) */
  redisUrl: string;
  /** this node's name in /health, presence and logs (default: hostname-pid) */
  nodeId: string;
  /** how long a gateway waits for the engine leader before answering 503 ENGINE_UNAVAILABLE */
  engineTimeoutMs: number;
  /** a leader whose heartbeat is older than this is presumed dead and fenced off */
  engineLeaseMs: number;
  /** per-stream recent history kept in Redis (entries, seconds) */
  historyMaxLen: number;
  historyTtlSeconds: number;
}

const commoditySchema = z.strictObject({
  symbol: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/),
  name: z.string().min(1),
  unit: z.string().min(1),
  currency: z.string().length(3),
  tickSize: z.number().positive(),
  contractSize: z.number().positive(),
  referencePrice: z.number().positive(),
  positionLimit: z.number().int().positive(),
  maxOrderSize: z.number().int().positive(),
});
const catalogueSchema = z.array(commoditySchema).min(1).max(256);

const limitsOverride = z.strictObject({ positionLimit: z.number().int().positive().optional(), maxOrderSize: z.number().int().positive().optional() });
const complianceFileSchema = z.strictObject({
  users: z.record(z.string(), z.record(z.string(), limitsOverride)).optional(),
  thresholds: z
    .array(z.strictObject({ utilization: z.number().gt(0).lte(1), severity: z.enum(['low', 'medium', 'high', 'critical']) }))
    .max(10)
    .optional(),
});
export type ComplianceFileConfig = z.infer<typeof complianceFileSchema>;

export type ConfigResult = { ok: true; config: Config; warnings: string[] } | { ok: false; errors: string[] };

/**
 * Environment variables that look like ours but are not (a typo such as `MAX_EVENT_PER_SECOND`
 * would otherwise be ignored in silence): same first word as a known setting, unknown name.
 */
function unknownSettings(env: Record<string, string | undefined>): string[] {
  const known = new Set(Object.keys(envSchema.shape));
  // NODE_ID shares its prefix with Node's own variables (NODE_ENV, NODE_OPTIONS, ...): not ours to judge
  const prefixes = new Set([...known].filter((k) => k.includes('_')).map((k) => `${k.split('_')[0]}_`).filter((p) => p !== 'NODE_'));
  return Object.keys(env)
    .filter((name) => !known.has(name) && [...prefixes].some((p) => name.startsWith(p)))
    .map((name) => `${name} is not a setting of this server (ignored); see the README's configuration table`);
}

/**
 * Parses the environment. `readFile` loads COMMODITIES_FILE (injected so this stays free of I/O in
 * tests). Every problem is reported, not just the first.
 */
export function parseConfig(
  env: Record<string, string | undefined>,
  readFile?: (path: string) => string,
  defaultNodeId: () => string = () => 'node-1',
): ConfigResult {
  // empty strings count as unset, as a shell `FOO=` usually means
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') cleaned[key] = value;
  }
  const parsed = envSchema.safeParse(cleaned);
  const errors: string[] = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  // the checks below read the raw values, so they report their problems even when others failed
  const raw = cleaned as Partial<Record<keyof typeof envSchema.shape, string>>;
  if (raw.JWT_SECRET && raw.JWKS_URL) errors.push('JWT_SECRET and JWKS_URL: set one, not both');
  // port 0 (any free port, tests) may be asked for twice; a fixed port cannot be listened on twice
  if (raw.ADMIN_PORT !== undefined && Number(raw.ADMIN_PORT) !== 0 && Number(raw.ADMIN_PORT) === Number(raw.PORT ?? 3001)) {
    errors.push(`ADMIN_PORT: must differ from PORT (both ${raw.ADMIN_PORT})`);
  }
  const trustProxy = parseTrustProxy(raw.TRUST_PROXY);
  if (!trustProxy.ok) errors.push(`TRUST_PROXY: ${trustProxy.error}`);
  // cluster mode needs both the store and the bus; a cluster role needs cluster mode
  if (raw.REDIS_URL && raw.REDIS_CLUSTER_NODES) errors.push('REDIS_CLUSTER_NODES: set REDIS_URL or REDIS_CLUSTER_NODES, not both');
  const redisSet = !!(raw.REDIS_URL || raw.REDIS_CLUSTER_NODES);
  const missing = [raw.DATABASE_URL ? null : 'DATABASE_URL', redisSet ? null : 'REDIS_URL'].filter((m): m is string => m !== null);
  if (missing.length === 1) errors.push(`${missing[0]}: cluster mode needs both DATABASE_URL and REDIS_URL (only one is set)`);
  else if (missing.length === 2 && (raw.ROLE === 'gateway' || raw.ROLE === 'engine')) {
    errors.push(`ROLE=${raw.ROLE} runs in cluster mode: set DATABASE_URL (PostgreSQL) and REDIS_URL (Redis)`);
  }

  let commodities: readonly Commodity[] = DEFAULT_COMMODITIES;
  if (raw.COMMODITIES_FILE) {
    try {
      const text = readFile ? readFile(raw.COMMODITIES_FILE) : '';
      const cat = catalogueSchema.safeParse(JSON.parse(text));
      if (!cat.success) errors.push(`COMMODITIES_FILE: ${cat.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      else {
        const symbols = new Set(cat.data.map((c) => c.symbol));
        if (symbols.size !== cat.data.length) errors.push('COMMODITIES_FILE: duplicate symbols');
        commodities = cat.data;
      }
    } catch (err) {
      errors.push(`COMMODITIES_FILE: ${(err as Error).message}`);
    }
  }
  let compliance: ComplianceFileConfig = {};
  if (raw.COMPLIANCE_FILE) {
    try {
      const text = readFile ? readFile(raw.COMPLIANCE_FILE) : '';
      const parsedCompliance = complianceFileSchema.safeParse(JSON.parse(text));
      if (!parsedCompliance.success) errors.push(`COMPLIANCE_FILE: ${parsedCompliance.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      else compliance = parsedCompliance.data;
    } catch (err) {
      errors.push(`COMPLIANCE_FILE: ${(err as Error).message}`);
    }
  }
  const algorithms = (raw.JWT_ALGORITHMS ?? envSchema.shape.JWT_ALGORITHMS.parse(undefined)).split(',').map((a) => a.trim()).filter(Boolean);
  const allowedAlgs = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']);
  for (const a of algorithms) if (!allowedAlgs.has(a)) errors.push(`JWT_ALGORITHMS: ${a} is not an asymmetric JWS algorithm`);
  if (!parsed.success || !trustProxy.ok || errors.length) return { ok: false, errors };
  const e = parsed.data;
  const clusterNodes = e.REDIS_CLUSTER_NODES === undefined ? undefined : clusterNodesUrl(e.REDIS_CLUSTER_NODES);
  const redisUrl = e.REDIS_URL ?? (typeof clusterNodes === 'string' ? clusterNodes : undefined);
  const minuteOf = (hhmm: string) => {
    const [h, m] = hhmm.split(':').map(Number);
    return (h ?? 0) * 60 + (m ?? 0);
  };
  const nodeId = e.NODE_ID ?? defaultNodeId();

  const config: Config = {
    port: e.PORT,
    host: e.HOST,
    admin: e.ADMIN_PORT !== undefined ? { port: e.ADMIN_PORT, host: e.ADMIN_HOST } : null,
    logLevel: e.LOG_LEVEL,
    dataDir: e.DATA_DIR,
    auth: {
      demo: !e.JWT_SECRET && !e.JWKS_URL,
      ...(e.JWT_SECRET ? { secret: e.JWT_SECRET } : {}),
      ...(e.JWKS_URL ? { jwksUrl: e.JWKS_URL } : {}),
      ...(e.JWT_ISSUER ? { issuer: e.JWT_ISSUER } : {}),
      ...(e.JWT_AUDIENCE ? { audience: e.JWT_AUDIENCE } : {}),
      algorithms,
      allowNoExp: e.JWT_ALLOW_NO_EXP,
      devTokenTtlSeconds: e.DEV_TOKEN_TTL_SECONDS,
    },
    ...(e.PUBLISH_API_KEY ? { publishApiKey: e.PUBLISH_API_KEY } : {}),
    corsOrigin: e.CORS_ORIGIN,
    trustProxy: trustProxy.value,
    commodities,
    simulator: { enabled: e.SIMULATOR, ...(e.SIMULATOR_SEED !== undefined ? { seed: e.SIMULATOR_SEED } : {}), updatesPerSecond: e.MARKET_UPDATES_PER_SECOND },
    trading: {
      compliance,
      sessionCloseMinuteUtc: minuteOf(e.TRADING_SESSION_CLOSE_UTC),
      sessionOpenMinuteUtc: minuteOf(e.TRADING_SESSION_OPEN_UTC ?? e.TRADING_SESSION_CLOSE_UTC),
      cancelOnDisconnectGraceMs: e.CANCEL_ON_DISCONNECT_GRACE_MS,
      velocity: e.VELOCITY_HALT_PERCENT > 0 ? { movePercent: e.VELOCITY_HALT_PERCENT, windowMs: e.VELOCITY_HALT_WINDOW_MS, haltMs: e.VELOCITY_HALT_MS } : null,
    },
    nodeId,
    limits: {
      maxPayloadBytes: e.MAX_PAYLOAD_BYTES,
      publishMaxPayloadBytes: e.PUBLISH_MAX_PAYLOAD_BYTES,
      maxEventsPerSecond: e.MAX_EVENTS_PER_SECOND,
      maxCommoditiesPerRequest: e.MAX_COMMODITIES_PER_REQUEST,
      maxSubscriptionsPerSocket: e.MAX_SUBSCRIPTIONS_PER_SOCKET,
      maxConnectionsPerUser: e.MAX_CONNECTIONS_PER_USER,
      authFailuresPerSocket: e.AUTH_FAILURES_PER_SOCKET,
      authFailuresPerAddress: e.AUTH_FAILURES_PER_ADDRESS,
      authFailureDelayMs: e.AUTH_FAILURE_DELAY_MS,
      restRequestsPerMinutePerAddress: e.REST_REQUESTS_PER_MINUTE_PER_ADDRESS,
      restRequestsPerMinutePerUser: e.REST_REQUESTS_PER_MINUTE_PER_USER,
      authTimeoutMs: e.AUTH_TIMEOUT_MS,
      maxUnauthenticatedPerAddress: e.MAX_UNAUTHENTICATED_PER_ADDRESS,
      slowConsumerBufferBytes: e.SLOW_CONSUMER_BUFFER_BYTES,
      slowConsumerMaxPending: e.SLOW_CONSUMER_MAX_PENDING,
    },
    recoveryWindowMs: e.RECOVERY_WINDOW_MS,
    ping: { intervalMs: e.PING_INTERVAL_MS, timeoutMs: e.PING_TIMEOUT_MS },
    eventLogRetentionHours: e.EVENT_LOG_RETENTION_HOURS,
    tapeRetentionDays: e.TAPE_RETENTION_DAYS,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    role: e.ROLE,
    cluster:
      e.DATABASE_URL && redisUrl
        ? {
            databaseUrl: e.DATABASE_URL,
            redisUrl,
            nodeId,
            engineTimeoutMs: e.ENGINE_TIMEOUT_MS,
            engineLeaseMs: e.ENGINE_LEASE_MS,
            historyMaxLen: e.HISTORY_MAX_LEN,
            historyTtlSeconds: e.HISTORY_TTL_SECONDS,
          }
        : null,
  };
  const warnings = unknownSettings(env);
  // weak, but the operator's choice: said loudly rather than refused
  if (e.JWT_SECRET && e.JWT_SECRET.length < 32) warnings.push('JWT_SECRET is shorter than 32 characters: HS256 secrets should be at least 256 bits');
  // an engine verifies no token and takes no publish: neither setting concerns it
  const engine = e.ROLE === 'engine';
  if (!e.JWT_SECRET && !e.JWKS_URL && !engine) {
    warnings.push('demo mode: no JWT_SECRET or JWKS_URL set; tokens come from POST /api/v1/auth/dev-token (signed with a random secret kept in DATA_DIR/demo-secret, so a restart keeps them valid)');
  }
  if (!e.PUBLISH_API_KEY && !engine) {
    warnings.push(
      config.cluster
        ? 'PUBLISH_API_KEY not set: the gateways share a random key kept in Redis (and logged)'
        : 'PUBLISH_API_KEY not set: a random key is made at each start (and logged)',
    );
  }
  if (raw.ADMIN_HOST && e.ADMIN_PORT === undefined) warnings.push('ADMIN_HOST is set but ADMIN_PORT is not: /metrics, /health and /ready stay on the public port');
  if (e.JWT_ALLOW_NO_EXP) warnings.push('JWT_ALLOW_NO_EXP=true: tokens without exp are accepted and never expire');
  if (e.PUBLISH_API_KEY && e.PUBLISH_API_KEY.length < 16) warnings.push('PUBLISH_API_KEY is shorter than 16 characters: easy to guess');
  return { ok: true, config: deepFreeze(config), warnings };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
