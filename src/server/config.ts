import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** Found from this file, not the cwd, so the server behaves the same wherever it is started. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];

/** Relative directories are resolved against the project root, like the defaults. */
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  MODELS_DIR: z.string().default('../shared/models'),
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
  const { PORT, HOST, MODELS_DIR, DIST_DIR, LOG_LEVEL } = parsed.data;
  return {
    ok: true,
    config: {
      port: PORT,
      host: HOST,
      modelsDir: resolve(PROJECT_ROOT, MODELS_DIR),
      distDir: resolve(PROJECT_ROOT, DIST_DIR),
      logLevel: LOG_LEVEL,
    },
  };
}
