import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { parseModelManifest } from '../core/model-manifest';
import { PROJECT_ROOT } from './config';

/** The real entry point, as `npm start` runs it, in its own process. */
function startServer(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/server/server.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', DIST_DIR: '/nonexistent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function collect(stream: NodeJS.ReadableStream | null): () => string {
  let text = '';
  stream?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return () => text;
}

async function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

async function waitForUrl(child: ChildProcess): Promise<string> {
  let buffered = '';
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    buffered += chunk.toString();
    const match = /Serving (http:\/\/\S+?)\/? /.exec(buffered);
    if (match?.[1]) return match[1];
  }
  throw new Error(`server exited before listening:\n${buffered}`);
}

describe('server.ts', () => {
  it('exits non-zero with a clear message on an invalid environment', async () => {
    const child = startServer({ PORT: 'eighty' });
    const stderr = collect(child.stderr);
    expect(await exitCode(child)).toBe(1);
    expect(stderr()).toMatch(/Invalid environment:[\s\S]*PORT/);
  });

  it('exits non-zero when the models cannot be loaded', async () => {
    const child = startServer({ MODELS_DIR: '/nonexistent/models' });
    const stderr = collect(child.stderr);
    expect(await exitCode(child)).toBe(1);
    expect(stderr()).toContain('Cannot load the models (MODELS_DIR=/nonexistent/models)');
  });

  it('serves, then lets an in-flight download finish on SIGTERM and exits 0', async () => {
    const child = startServer({});
    try {
      const origin = await waitForUrl(child);
      expect(await (await fetch(`${origin}/healthz`)).json()).toEqual({ status: 'ok' });

      const parsed = parseModelManifest(
        await (await fetch(`${origin}/models/manifest.json`)).json(),
      );
      if (!parsed.ok) throw new Error(parsed.reason);
      const entry = parsed.manifest.models[0];
      const shard = entry?.files[1];
      if (!entry || !shard) throw new Error('unexpected manifest');
      const download = await fetch(origin + entry.baseUrl + shard.path);
      child.kill('SIGTERM');
      const bytes = await download.arrayBuffer();
      expect(bytes.byteLength).toBe(shard.bytes);
      expect(await exitCode(child)).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
