import { resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_MAX_BATCH_BYTES } from '../core/feedback';
import { PROJECT_ROOT } from '../node/shared-paths';

export { PROJECT_ROOT };

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];

/** A PostgreSQL schema name that is safe to splice into SQL unquoted. */
export const PG_SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const DEFAULT_RATE_LIMIT = { burst: 30, perMinute: 60 };

/** Relative directories are resolved against the project root, like the defaults. */
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
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
  /** Origins allowed to call the API from other sites, comma-separated; none by default. */
  CORS_ORIGINS: z.string().default(''),
  /** Bearer token for GET /api/v1/feedback/export; the export does not exist without it. */
  FEEDBACK_EXPORT_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
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
   * Behind a reverse proxy the client address is in X-Forwarded-For: `true` trusts every
   * hop; anything else is a comma-separated list of proxy addresses or CIDR ranges.
   */
  TRUST_PROXY: z.string().optional(),
});

const ORIGIN = /^https?:\/\/[^/\s]+$/;

export interface ServerConfig {
  port: number;
  host: string;
  modelsDir: string;
  distDir: string;
  logLevel: LogLevel;
  feedback: FeedbackConfig;
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
  trustProxy: boolean | string;
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
        rateLimit: { burst: vars.RATE_LIMIT_BURST, perMinute: vars.RATE_LIMIT_PER_MINUTE },
        trustProxy: parseTrustProxy(vars.TRUST_PROXY),
      },
    },
  };
}

function parseTrustProxy(value: string | undefined): boolean | string {
  if (value === undefined || value === 'false') return false;
  return value === 'true' ? true : value;
}

/** What the app uses when a test or tool gives no feedback settings. */
export const DEFAULT_FEEDBACK_CONFIG: Omit<FeedbackConfig, 'store'> = {
  corsOrigins: [],
  exportToken: null,
  bodyLimitBytes: DEFAULT_MAX_BATCH_BYTES,
  rateLimit: DEFAULT_RATE_LIMIT,
  trustProxy: false,
};
