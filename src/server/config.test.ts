import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMEOUTS, loadConfig, PROJECT_ROOT } from './config';

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
        // Loopback: reachable at http://localhost:8080, not from the network.
        host: '127.0.0.1',
        modelsDir: join(PROJECT_ROOT, '..', 'shared', 'models'),
        distDir: join(PROJECT_ROOT, 'dist'),
        logLevel: 'info',
        metricsToken: null,
        timeouts: { headersMs: 10_000, requestMs: 120_000, idleMs: 30_000, keepAliveMs: 72_000 },
        trustedProxies: [],
        feedback: {
          store: { kind: 'sqlite', path: join(PROJECT_ROOT, 'data', 'feedback.sqlite') },
          corsOrigins: [],
          exportToken: null,
          bodyLimitBytes: 5 * 1024 * 1024,
          rateLimit: { burst: 30, perMinute: 60 },
        },
        registry: {
          files: { kind: 'folder', dir: join(PROJECT_ROOT, 'data', 'models') },
          refreshMs: 2000,
          cacheBytes: 64 * 1024 * 1024,
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
        metricsToken: null,
        timeouts: DEFAULT_TIMEOUTS,
        trustedProxies: [],
        feedback: expect.objectContaining({ corsOrigins: [] }),
        registry: expect.objectContaining({ refreshMs: 2000 }),
      },
    });
  });

  it('takes a refresh interval up to the 10 s within which every server must see a change', () => {
    const slowest = loadConfig({ MODEL_REFRESH_MS: '10000' });
    expect(slowest.ok && slowest.config.registry.refreshMs).toBe(10_000);
    expect(loadConfig({ MODEL_REFRESH_MS: '600000' }).ok).toBe(false);
  });

  it('reads the registry settings; the files go in the database only on PostgreSQL', () => {
    const folder = loadConfig({
      MODEL_STORE_DIR: 'var/model-files',
      MODEL_REFRESH_MS: '500',
      MODEL_CACHE_BYTES: '1000000',
    });
    expect(folder.ok && folder.config.registry).toEqual({
      files: { kind: 'folder', dir: join(PROJECT_ROOT, 'var', 'model-files') },
      refreshMs: 500,
      cacheBytes: 1_000_000,
    });
    const database = loadConfig({
      DATABASE_URL: 'postgresql://db.internal/fieldid',
      MODEL_STORE: 'database',
    });
    expect(database.ok && database.config.registry.files).toEqual({ kind: 'database' });

    const refused = loadConfig({ MODEL_STORE: 'database' });
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.reason).toContain('MODEL_STORE');
      expect(refused.reason).toContain('DATABASE_URL');
    }
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
    });
    const sqlite = loadConfig({ SQLITE_PATH: '/var/lib/fieldid/feedback.sqlite' });
    expect(sqlite.ok && sqlite.config.feedback.store).toEqual({
      kind: 'sqlite',
      path: '/var/lib/fieldid/feedback.sqlite',
    });
  });

  it('reads the server settings', () => {
    const result = loadConfig({
      METRICS_TOKEN: 'm'.repeat(32),
      TRUST_PROXY: '10.0.0.1, 10.0.0.0/8,fd00::/8 ,::1,loopback',
      HEADERS_TIMEOUT_MS: '5000',
      REQUEST_TIMEOUT_MS: '60000',
      IDLE_TIMEOUT_MS: '15000',
      KEEP_ALIVE_TIMEOUT_MS: '5000',
    });
    expect(result).toMatchObject({
      ok: true,
      config: {
        metricsToken: 'm'.repeat(32),
        trustedProxies: ['10.0.0.1', '10.0.0.0/8', 'fd00::/8', '::1', 'loopback'],
        timeouts: { headersMs: 5000, requestMs: 60_000, idleMs: 15_000, keepAliveMs: 5000 },
      },
    });
    expect(loadConfig({ TRUST_PROXY: 'false' })).toMatchObject({ config: { trustedProxies: [] } });
  });

  it.each(['true', '1', '2'])(
    'refuses TRUST_PROXY=%s, which would trust any client, and says what to set',
    (value) => {
      const result = loadConfig({ TRUST_PROXY: value });
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.reason).toContain('TRUST_PROXY');
        expect(result.reason).toContain('addresses or CIDR ranges');
      }
    },
  );

  it.each([
    '0.0.0.0/0',
    '::/0',
    '10.0.0.0/7',
    '2001:db8::/31',
    '::ffff:0:0/96',
    '::ffff:0.0.0.0/100',
    '127.0.0.1, 0.0.0.0/1',
  ])('refuses TRUST_PROXY=%s, a range wide enough to take in clients, and says why', (value) => {
    const result = loadConfig({ TRUST_PROXY: value });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toMatch(/^TRUST_PROXY: /);
      expect(result.reason).toContain('wider than /8 (IPv4) or /32 (IPv6)');
      expect(result.reason).toContain('choose its rate-limit key');
    }
  });

  it('takes ranges up to /8 (IPv4) and /32 (IPv6), and any inside the private IPv6 ranges', () => {
    const value = '10.0.0.0/8, 2001:db8::/32, ::ffff:10.0.0.0/104, fc00::/7, fd00::/8, fe80::/10';
    expect(loadConfig({ TRUST_PROXY: value })).toMatchObject({
      ok: true,
      config: { trustedProxies: value.split(', ') },
    });
  });

  it('refuses a rate-limit window longer than the day a client key lives', () => {
    const result = loadConfig({ RATE_LIMIT_PER_MINUTE: '0.001' });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toMatch(/^RATE_LIMIT_BURST \/ RATE_LIMIT_PER_MINUTE: /);
      expect(result.reason).toContain('window of 500 h');
      expect(result.reason).toContain('at most 24 h');
      expect(result.reason).toContain('RATE_LIMIT_PER_MINUTE to at least 0.0209');
    }
    expect(loadConfig({ RATE_LIMIT_PER_MINUTE: '0.0209' }).ok).toBe(true);
    // Exactly a day is still a window that ends.
    expect(loadConfig({ RATE_LIMIT_BURST: '1440', RATE_LIMIT_PER_MINUTE: '1' }).ok).toBe(true);
    expect(loadConfig({ RATE_LIMIT_BURST: '1441', RATE_LIMIT_PER_MINUTE: '1' }).ok).toBe(false);
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
    ['METRICS_TOKEN', 'short'],
    ['TRUST_PROXY', 'proxy.internal'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', '10.0.0.1/8/8'],
    ['TRUST_PROXY', '::1/129'],
    ['REQUEST_TIMEOUT_MS', '0'],
    ['IDLE_TIMEOUT_MS', 'soon'],
    ['HEADERS_TIMEOUT_MS', '200000'],
    ['MODEL_STORE', 'cloud'],
    ['MODEL_REFRESH_MS', '10'],
    // A change must reach every server within 10 s: a slower poll would break that.
    ['MODEL_REFRESH_MS', '10001'],
    ['MODEL_CACHE_BYTES', '-1'],
  ])('rejects %s=%s and names the variable', (name, value) => {
    const result = loadConfig({ [name]: value });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(name);
  });
});
