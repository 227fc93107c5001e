import { resolve } from 'node:path';
import { z } from 'zod';
import { PROJECT_ROOT } from '../node/shared-paths';

export { PROJECT_ROOT };

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];

/** Relative directories are resolved against the project root, like the defaults. */
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** Default: `models` in SHARED_DIR, itself `../shared` by default. */
  MODELS_DIR: z.string().optional(),
  SHARED_DIR: z.string().default('../shared'),
  DIST_DIR: z.string().default('dist'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
});

export interface ServerConfig {
  port: number;
  host: string;
  modelsDir: string;
  distDir: string;
  logLevel: LogLevel;
}

export function loadConfig(
  env: Record<string, string | undefined> = process.env,
): { ok: true; config: ServerConfig } | { ok: false; reason: string } {
  // `PORT= npm start` means "not set", not port 0.
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = envSchema.safeParse(set);
  if (!parsed.success) return { ok: false, reason: z.prettifyError(parsed.error) };
  const { PORT, HOST, MODELS_DIR, SHARED_DIR, DIST_DIR, LOG_LEVEL } = parsed.data;
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
    },
  };
}
