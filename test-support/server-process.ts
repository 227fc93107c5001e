import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { PROJECT_ROOT } from '../src/node/shared-paths';
import { loadConfig } from '../src/server/config';
import { openModelRegistry, registryOptions } from '../src/server/registry/open-registry';
import type { ModelRegistryService } from '../src/server/registry/registry';

/**
 * The real server entry point, as `npm run serve` runs it, in a child process: for the
 * tests that need a real process (signals, crashes, restarts), e2e and the feedback bench.
 */

/** A port nobody listens on now, for a test that must restart a server on the same origin. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** SIGTERM, then the exit: the server closes after its in-flight requests. */
export function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export interface StartServerOptions {
  /** 'pipe' (the default) lets `waitForUrl` and `waitForLine` read the log. */
  stdout?: 'pipe' | 'ignore' | 'inherit';
  stderr?: 'pipe' | 'ignore' | 'inherit';
}

/**
 * The environment `startServer` runs the server with. The model files go beside the
 * SQLite file (`model-store`), or into the PostgreSQL database, unless `env` names a
 * MODEL_STORE or MODEL_STORE_DIR: never into the project's own ./data/models.
 */
export function serverEnv(env: Record<string, string>): Record<string, string> {
  const files: Record<string, string> =
    env.MODEL_STORE !== undefined || env.MODEL_STORE_DIR !== undefined
      ? {}
      : env.DATABASE_URL
        ? { MODEL_STORE: 'database' }
        : env.SQLITE_PATH
          ? { MODEL_STORE_DIR: join(dirname(env.SQLITE_PATH), 'model-store') }
          : {};
  return {
    HOST: '127.0.0.1',
    PORT: '0',
    DIST_DIR: '/nonexistent',
    DATABASE_URL: '',
    ...files,
    ...env,
  };
}

/**
 * Starts the server on loopback, on a free port, without the built app and on SQLite unless
 * `env` says otherwise. Callers give SQLITE_PATH (or DATABASE_URL): the default path is the
 * project's own database.
 */
export function startServer(
  env: Record<string, string>,
  options: StartServerOptions = {},
): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/server.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...serverEnv(env) },
    stdio: ['ignore', options.stdout ?? 'pipe', options.stderr ?? 'pipe'],
  });
  if (child.stdout) watchOutput(child);
  return child;
}

/**
 * The model registry a server started with `startServer(env)` uses, opened from this
 * process as `npm run model` would open it: for tests that change channels under a server.
 */
export async function openServerRegistry(
  env: Record<string, string>,
): Promise<ModelRegistryService> {
  const parsed = loadConfig(serverEnv(env));
  if (!parsed.ok) throw new Error(parsed.reason);
  return openModelRegistry(registryOptions(parsed.config));
}

/** The origin from the server's "Serving http://…/" line, once it listens. */
export async function waitForUrl(child: ChildProcess): Promise<string> {
  const line = await waitForLine(child, SERVING);
  const origin = SERVING.exec(line)?.[1];
  if (!origin) throw new Error(`no URL in ${line}`);
  return origin;
}

const SERVING = /Serving (http:\/\/\S+?)\/? /;

/**
 * The first stdout line (since the start) that contains `text` or matches it; rejects if
 * the output ends first, or after `timeoutMs` when given.
 */
export function waitForLine(
  child: ChildProcess,
  text: string | RegExp,
  { timeoutMs }: { timeoutMs?: number } = {},
): Promise<string> {
  const log = logs.get(child);
  if (!log) return Promise.reject(new Error('the process was not watched (no stdout pipe)'));
  const matches = (line: string) =>
    typeof text === 'string' ? line.includes(text) : text.test(line);
  return new Promise((resolve, reject) => {
    let from = 0;
    const timer =
      timeoutMs === undefined
        ? null
        : setTimeout(() => {
            log.waiters.delete(check);
            reject(new Error(`no ${String(text)} within ${timeoutMs} ms:\n${log.text}`));
          }, timeoutMs);
    const settle = () => {
      log.waiters.delete(check);
      if (timer !== null) clearTimeout(timer);
    };
    const check = () => {
      for (;;) {
        const end = log.text.indexOf('\n', from);
        if (end === -1) break;
        const line = log.text.slice(from, end);
        from = end + 1;
        if (matches(line)) {
          settle();
          resolve(line);
          return;
        }
      }
      if (log.ended) {
        settle();
        const rest = log.text.slice(from);
        if (matches(rest)) resolve(rest);
        else reject(new Error(`the output ended without ${String(text)}:\n${log.text}`));
      }
    };
    log.waiters.add(check);
    check();
  });
}

interface Log {
  text: string;
  ended: boolean;
  waiters: Set<() => void>;
}

const logs = new WeakMap<ChildProcess, Log>();

/**
 * Keeps a child's stdout for `waitForLine`: read from the start, so no line is missed, and
 * for the whole life of the process, since a pipe nobody drains fills up and blocks the
 * child's next write. `startServer` does it for the server.
 */
export function watchOutput(child: ChildProcess): void {
  const log: Log = { text: '', ended: false, waiters: new Set() };
  logs.set(child, log);
  const notify = () => [...log.waiters].forEach((waiter) => waiter());
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    log.text += chunk;
    notify();
  });
  child.stdout?.on('close', () => {
    log.ended = true;
    notify();
  });
}
