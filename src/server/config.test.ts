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
      },
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
  ])('rejects %s=%s and names the variable', (name, value) => {
    const result = loadConfig({ [name]: value });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(name);
  });
});
