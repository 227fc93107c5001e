import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_MAX_BATCH_BYTES } from '../core/feedback';
import { PROJECT_ROOT } from '../node/shared-paths';
import { ipv6Groups, isIpv4Mapped } from './client-address';
import { MAX_RATE_LIMIT_WINDOW_MS, rateLimitWindowMs } from './rate-limit';

export { PROJECT_ROOT };

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];

/** A PostgreSQL schema name that is safe to splice into SQL unquoted. */
export const PG_SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const DEFAULT_RATE_LIMIT = { burst: 30, perMinute: 60 };

/** Every running server serves a change of the model channels within this time. */
export const MAX_MODEL_REFRESH_MS = 10_000;

/**
 * How long a client may take, so that a stalled or trickling connection cannot hold a
 * request's memory for as long as it likes. A 5 MiB batch takes about 40 s on a 1 Mbit/s
 * uplink, hence the room in `requestMs`.
 */
export const DEFAULT_TIMEOUTS: TimeoutConfig = {
  headersMs: 10_000,
  requestMs: 120_000,
  idleMs: 30_000,
  // Longer than the usual load balancer idle timeout (60 s), so the balancer closes first.
  keepAliveMs: 72_000,
};

const timeoutMs = (fallback: number) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(60 * 60_000)
    .default(fallback);

const bearerToken = z.string().min(32, 'must be at least 32 characters');

/** Relative directories are resolved against the project root, like the defaults. */
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Loopback unless told otherwise: a public server sits behind a proxy that sets HOST. */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Default: `models` in SHARED_DIR, itself `../shared` by default. */
  MODELS_DIR: z.string().optional(),
  SHARED_DIR: z.string().default('../shared'),
  DIST_DIR: z.string().default('dist'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  /** Feedback storage: PostgreSQL when set, else the SQLite file. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  /** A schema in DATABASE_URL's database for the tables (the bench and tests use their own). */
  PG_SCHEMA: z.string().regex(PG_SCHEMA_NAME).optional(),
  SQLITE_PATH: z.string().default('data/feedback.sqlite'),
  /**
   * Where the registry keeps model files: `folder` (MODEL_STORE_DIR) or `database` (the
   * PostgreSQL database itself, so that servers share nothing else; not with SQLite).
   */
  MODEL_STORE: z.enum(['folder', 'database']).default('folder'),
  MODEL_STORE_DIR: z.string().default('data/models'),
  /**
   * How often a server asks the registry whether its channels changed: at most the time
   * within which a change must reach every running server (issue 9).
   */
  MODEL_REFRESH_MS: z.coerce.number().int().min(100).max(MAX_MODEL_REFRESH_MS).default(2000),
  /** The model files a server keeps in memory (checked once, then sent from there). */
  MODEL_CACHE_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(64 * 1024 * 1024),
  /** Origins allowed to call the API from other sites, comma-separated; none by default. */
  CORS_ORIGINS: z.string().default(''),
  /** Bearer token for GET /api/v1/feedback/export; the export does not exist without it. */
  FEEDBACK_EXPORT_TOKEN: bearerToken.optional(),
  /** Bearer token for GET /metrics; without it the metrics are open to whoever reaches HOST. */
  METRICS_TOKEN: bearerToken.optional(),
  FEEDBACK_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(DEFAULT_MAX_BATCH_BYTES),
  /** Requests a client may make at once to POST /api/v1/feedback ... */
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(DEFAULT_RATE_LIMIT.burst),
  /** ... and how many more it earns per minute. */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().min(0.001).default(DEFAULT_RATE_LIMIT.perMinute),
  /**
   * Behind a reverse proxy the client address is in X-Forwarded-For, and only the proxies
   * listed here (addresses or CIDR ranges, comma-separated) may say what it is.
   */
  TRUST_PROXY: z.string().optional(),
  HEADERS_TIMEOUT_MS: timeoutMs(DEFAULT_TIMEOUTS.headersMs),
  REQUEST_TIMEOUT_MS: timeoutMs(DEFAULT_TIMEOUTS.requestMs),
  IDLE_TIMEOUT_MS: timeoutMs(DEFAULT_TIMEOUTS.idleMs),
  KEEP_ALIVE_TIMEOUT_MS: timeoutMs(DEFAULT_TIMEOUTS.keepAliveMs),
});

const ORIGIN = /^https?:\/\/[^/\s]+$/;

export interface ServerConfig {
  port: number;
  host: string;
  modelsDir: string;
  distDir: string;
  logLevel: LogLevel;
  /** Bearer token that GET /metrics asks for; null leaves the metrics open. */
  metricsToken: string | null;
  timeouts: TimeoutConfig;
  /** The reverse proxies allowed to name the client in X-Forwarded-For; none by default. */
  trustedProxies: string[];
  feedback: FeedbackConfig;
  /** The model registry; its state lives in the feedback database (`feedback.store`). */
  registry: RegistryConfig;
}

export type ModelStoreConfig = { kind: 'folder'; dir: string } | { kind: 'database' };

export interface RegistryConfig {
  files: ModelStoreConfig;
  refreshMs: number;
  cacheBytes: number;
}

export interface TimeoutConfig {
  /** From the connection (or the previous response) to the end of the request headers. */
  headersMs: number;
  /** From the connection to the last byte of the request body. */
  requestMs: number;
  /** Longest silence of a connection in the middle of a request. */
  idleMs: number;
  /** How long an idle keep-alive connection stays open between requests. */
  keepAliveMs: number;
}

export interface FeedbackConfig {
  /** `postgres` when DATABASE_URL is set. */
  store:
    | { kind: 'sqlite'; path: string }
    | { kind: 'postgres'; connectionString: string; schema: string | null };
  corsOrigins: string[];
  exportToken: string | null;
  bodyLimitBytes: number;
  rateLimit: { burst: number; perMinute: number };
}

export function loadConfig(
  env: Record<string, string | undefined> = process.env,
): { ok: true; config: ServerConfig } | { ok: false; reason: string } {
  // `PORT= npm start` means "not set", not port 0.
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = envSchema.safeParse(set);
  if (!parsed.success) return { ok: false, reason: z.prettifyError(parsed.error) };
  const { PORT, HOST, MODELS_DIR, SHARED_DIR, DIST_DIR, LOG_LEVEL } = parsed.data;
  const vars = parsed.data;
  const corsOrigins = vars.CORS_ORIGINS.split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
  const badOrigin = corsOrigins.find((origin) => !ORIGIN.test(origin));
  if (badOrigin !== undefined) {
    return { ok: false, reason: `CORS_ORIGINS: ${JSON.stringify(badOrigin)} is not an origin` };
  }
  const trustedProxies = parseTrustedProxies(vars.TRUST_PROXY);
  if (!trustedProxies.ok) return { ok: false, reason: `TRUST_PROXY: ${trustedProxies.reason}` };
  const rateLimit = { burst: vars.RATE_LIMIT_BURST, perMinute: vars.RATE_LIMIT_PER_MINUTE };
  if (rateLimitWindowMs(rateLimit) > MAX_RATE_LIMIT_WINDOW_MS) {
    const hours = rateLimitWindowMs(rateLimit) / 3_600_000;
    const leastPerMinute =
      Math.ceil((rateLimit.burst / (MAX_RATE_LIMIT_WINDOW_MS / 60_000)) * 1e4) / 1e4;
    return {
      ok: false,
      reason:
        `RATE_LIMIT_BURST / RATE_LIMIT_PER_MINUTE: ${rateLimit.burst} requests at ${rateLimit.perMinute} per minute make a window of ${Math.round(hours)} h, ` +
        `but the key a client is counted under changes every UTC day, so a window may last at most 24 h ` +
        `(set RATE_LIMIT_PER_MINUTE to at least ${leastPerMinute}, or lower RATE_LIMIT_BURST)`,
    };
  }
  if (vars.MODEL_STORE === 'database' && !vars.DATABASE_URL) {
    return {
      ok: false,
      reason:
        'MODEL_STORE: "database" keeps the model files in PostgreSQL and needs DATABASE_URL; on SQLite the files go in MODEL_STORE_DIR (MODEL_STORE=folder)',
    };
  }
  if (vars.HEADERS_TIMEOUT_MS > vars.REQUEST_TIMEOUT_MS) {
    return { ok: false, reason: 'HEADERS_TIMEOUT_MS: must not be longer than REQUEST_TIMEOUT_MS' };
  }
  return {
    ok: true,
    config: {
      port: PORT,
      host: HOST,
      modelsDir: MODELS_DIR
        ? resolve(PROJECT_ROOT, MODELS_DIR)
        : resolve(PROJECT_ROOT, SHARED_DIR, 'models'),
      distDir: resolve(PROJECT_ROOT, DIST_DIR),
      logLevel: LOG_LEVEL,
      metricsToken: vars.METRICS_TOKEN ?? null,
      timeouts: {
        headersMs: vars.HEADERS_TIMEOUT_MS,
        requestMs: vars.REQUEST_TIMEOUT_MS,
        idleMs: vars.IDLE_TIMEOUT_MS,
        keepAliveMs: vars.KEEP_ALIVE_TIMEOUT_MS,
      },
      trustedProxies: trustedProxies.value,
      feedback: {
        store: vars.DATABASE_URL
          ? {
              kind: 'postgres',
              connectionString: vars.DATABASE_URL,
              schema: vars.PG_SCHEMA ?? null,
            }
          : { kind: 'sqlite', path: resolve(PROJECT_ROOT, vars.SQLITE_PATH) },
        corsOrigins,
        exportToken: vars.FEEDBACK_EXPORT_TOKEN ?? null,
        bodyLimitBytes: vars.FEEDBACK_BODY_LIMIT_BYTES,
        rateLimit,
      },
      registry: {
        files:
          vars.MODEL_STORE === 'database'
            ? { kind: 'database' }
            : { kind: 'folder', dir: resolve(PROJECT_ROOT, vars.MODEL_STORE_DIR) },
        refreshMs: vars.MODEL_REFRESH_MS,
        cacheBytes: vars.MODEL_CACHE_BYTES,
      },
    },
  };
}

/** The names proxy-addr knows for the private ranges, besides addresses and CIDRs. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * Only listed proxies: `true` (or a hop count) would believe whatever X-Forwarded-For a
 * client sends straight to the server, and so let it pick its own rate-limit key.
 */
function parseTrustedProxies(
  value: string | undefined,
): { ok: true; value: string[] } | { ok: false; reason: string } {
  if (value === undefined || value === 'false') return { ok: true, value: [] };
  if (value === 'true' || /^\d+$/.test(value)) {
    return {
      ok: false,
      reason: `${JSON.stringify(value)} would trust any client's X-Forwarded-For; list the proxies' addresses or CIDR ranges instead (e.g. TRUST_PROXY=127.0.0.1 or 10.0.0.0/8)`,
    };
  }
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const entry of entries) {
    const problem = proxyEntryProblem(entry);
    if (problem !== null) return { ok: false, reason: `${JSON.stringify(entry)} ${problem}` };
  }
  return { ok: true, value: entries };
}

/**
 * The widest ranges a list of proxies may name. A wider one (0.0.0.0/0 and ::/0 above
 * all) takes in clients as well as proxies: it is `true` by another name, and lets those
 * clients choose their own rate-limit key.
 */
const MIN_PROXY_PREFIX = { ipv4: 8, ipv6: 32 };

function proxyEntryProblem(entry: string): string | null {
  if (PROXY_RANGE_NAMES.includes(entry)) return null;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return 'is not an IP address or CIDR range';
  if (prefix === undefined) return null;
  const bits = Number(prefix);
  if (!/^\d{1,3}$/.test(prefix) || bits > (family === 4 ? 32 : 128)) {
    return 'is not an IP address or CIDR range';
  }
  // The proxy check reads a mapped range of /96 or more (::ffff:0:0/96) as the IPv4 range
  // it maps: as an IPv4 prefix, its width is what counts.
  const groups = family === 6 ? ipv6Groups(address) : null;
  const mapped = groups !== null && isIpv4Mapped(groups) && bits >= 96;
  const ipv4Bits = family === 4 ? bits : mapped ? bits - 96 : null;
  // Inside the unique-local or link-local range, as wide as `uniquelocal` and `linklocal`
  // may already name: no client on the internet has such an address.
  const first = groups?.[0] ?? 0;
  const privateV6 =
    ((first & 0xfe00) === 0xfc00 && bits >= 7) || ((first & 0xffc0) === 0xfe80 && bits >= 10);
  const tooWide =
    ipv4Bits !== null
      ? ipv4Bits < MIN_PROXY_PREFIX.ipv4
      : !privateV6 && bits < MIN_PROXY_PREFIX.ipv6;
  if (tooWide) {
    return `is wider than /${MIN_PROXY_PREFIX.ipv4} (IPv4) or /${MIN_PROXY_PREFIX.ipv6} (IPv6): a range that wide holds clients too, and any of them could then name its own address in X-Forwarded-For and so choose its rate-limit key; list the proxies' own addresses or a narrower range`;
  }
  return null;
}

/** What the app uses when a test or tool gives no feedback settings. */
export const DEFAULT_FEEDBACK_CONFIG: Omit<FeedbackConfig, 'store'> = {
  corsOrigins: [],
  exportToken: null,
  bodyLimitBytes: DEFAULT_MAX_BATCH_BYTES,
  rateLimit: DEFAULT_RATE_LIMIT,
};
