import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, PROJECT_ROOT } from './config';

describe('loadConfig', () => {
  it('finds the project root from the module, not the cwd', () => {
    expect(existsSync(join(PROJECT_ROOT, 'package.json'))).toBe(true);
    expect(existsSync(join(PROJECT_ROOT, 'src', 'server', 'config.ts'))).toBe(true);
  });

  it('has defaults for everything', () => {
    expect(loadConfig({})).toEqual({
      ok: true,
      config: {
        port: 8080,
        host: '0.0.0.0',
        modelsDir: join(PROJECT_ROOT, '..', 'shared', 'models'),
        distDir: join(PROJECT_ROOT, 'dist'),
        logLevel: 'info',
        feedback: {
          store: { kind: 'sqlite', path: join(PROJECT_ROOT, 'data', 'feedback.sqlite') },
          corsOrigins: [],
          exportToken: null,
          bodyLimitBytes: 5 * 1024 * 1024,
          rateLimit: { burst: 30, perMinute: 60 },
          trustProxy: false,
        },
      },
    });
  });

  it('reads the environment; relative directories are relative to the project root', () => {
    const result = loadConfig({
      PORT: '3000',
      HOST: '127.0.0.1',
      MODELS_DIR: '/srv/models',
      DIST_DIR: 'build/web',
      LOG_LEVEL: 'warn',
      UNRELATED: 'x',
    });
    expect(result).toEqual({
      ok: true,
      config: {
        port: 3000,
        host: '127.0.0.1',
        modelsDir: '/srv/models',
        distDir: join(PROJECT_ROOT, 'build', 'web'),
        logLevel: 'warn',
        feedback: expect.objectContaining({ corsOrigins: [] }),
      },
    });
  });

  it('reads the feedback settings', () => {
    const result = loadConfig({
      DATABASE_URL: 'postgresql://fieldid:secret@db.internal:5432/fieldid',
      PG_SCHEMA: 'feedback_v1',
      CORS_ORIGINS: 'https://field.example.org, http://localhost:5173',
      FEEDBACK_EXPORT_TOKEN: 'x'.repeat(32),
      FEEDBACK_BODY_LIMIT_BYTES: '100000',
      RATE_LIMIT_BURST: '5',
      RATE_LIMIT_PER_MINUTE: '0.5',
      TRUST_PROXY: '10.0.0.1,10.0.0.2',
    });
    expect(result.ok && result.config.feedback).toEqual({
      store: {
        kind: 'postgres',
        connectionString: 'postgresql://fieldid:secret@db.internal:5432/fieldid',
        schema: 'feedback_v1',
      },
      corsOrigins: ['https://field.example.org', 'http://localhost:5173'],
      exportToken: 'x'.repeat(32),
      bodyLimitBytes: 100000,
      rateLimit: { burst: 5, perMinute: 0.5 },
      trustProxy: '10.0.0.1,10.0.0.2',
    });
    const sqlite = loadConfig({ SQLITE_PATH: '/var/lib/fieldid/feedback.sqlite' });
    expect(sqlite.ok && sqlite.config.feedback.store).toEqual({
      kind: 'sqlite',
      path: '/var/lib/fieldid/feedback.sqlite',
    });
    expect(loadConfig({ TRUST_PROXY: 'true' })).toMatchObject({
      config: { feedback: { trustProxy: true } },
    });
  });

  it('treats an empty variable as unset', () => {
    const result = loadConfig({ PORT: '' });
    expect(result.ok && result.config.port).toBe(8080);
  });

  it.each([
    ['PORT', 'http'],
    ['PORT', '70000'],
    ['PORT', '80.5'],
    ['LOG_LEVEL', 'verbose'],
    ['DATABASE_URL', 'mysql://localhost/fieldid'],
    ['PG_SCHEMA', 'Robert"); DROP TABLE'],
    ['FEEDBACK_EXPORT_TOKEN', 'short'],
    ['FEEDBACK_BODY_LIMIT_BYTES', '10'],
    ['RATE_LIMIT_BURST', '0'],
    ['CORS_ORIGINS', 'https://ok.example, *'],
    ['CORS_ORIGINS', 'https://example.org/path'],
  ])('rejects %s=%s and names the variable', (name, value) => {
    const result = loadConfig({ [name]: value });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(name);
  });
});
