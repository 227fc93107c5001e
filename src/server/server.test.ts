import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedbackReplySchema } from '../core/feedback';
import { parseServedManifest } from '../core/model-channels';
import {
  startServer,
  stopServer,
  waitForLine,
  waitForUrl,
} from '../../test-support/server-process';
import { makeRecord, testModel } from '../../test-support/feedback';
import { makeTempDir } from '../../test-support/helpers';

let temp: Awaited<ReturnType<typeof makeTempDir>>;
beforeAll(async () => {
  temp = await makeTempDir('server');
});
afterAll(() => temp.remove());

/** On a temp database unless `env` names another. */
function start(env: Record<string, string>): ChildProcess {
  return startServer({ SQLITE_PATH: join(temp.path, 'feedback.sqlite'), ...env });
}

function collect(stream: NodeJS.ReadableStream | null): () => string {
  let text = '';
  stream?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return () => text;
}

async function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

describe('server.ts', () => {
  it('exits non-zero with a clear message on an invalid environment', async () => {
    const child = start({ PORT: 'eighty' });
    const stderr = collect(child.stderr);
    expect(await exitCode(child)).toBe(1);
    expect(stderr()).toMatch(/Invalid environment:[\s\S]*PORT/);
  });

  it('exits non-zero when the models cannot be loaded', async () => {
    // On a database of its own: with models already registered, the server would serve those.
    const child = start({
      MODELS_DIR: '/nonexistent/models',
      SQLITE_PATH: join(temp.path, 'no-models', 'feedback.sqlite'),
    });
    const stderr = collect(child.stderr);
    expect(await exitCode(child)).toBe(1);
    expect(stderr()).toContain('Cannot load the models (MODELS_DIR=/nonexistent/models)');
  });

  it('serves, then lets an in-flight download finish on SIGTERM and exits 0', async () => {
    const child = start({});
    try {
      const origin = await waitForUrl(child);
      expect(await (await fetch(`${origin}/healthz`)).json()).toEqual({ status: 'ok' });

      const parsed = parseServedManifest(
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

  it("serves the registry's models when MODELS_DIR is gone, and says so", async () => {
    const registered = start({});
    const origin = await waitForUrl(registered);
    const before = (await (await fetch(`${origin}/models/manifest.json`)).json()) as {
      models: unknown;
    };
    await stopServer(registered);

    const child = start({ MODELS_DIR: '/nonexistent/models' });
    try {
      const warning = await waitForLine(child, 'was not registered');
      expect(warning).toContain('MODELS_DIR=/nonexistent/models');
      const again = await waitForUrl(child);
      const served = (await (await fetch(`${again}/models/manifest.json`)).json()) as {
        models: unknown;
      };
      expect(served.models).toEqual(before.models);
    } finally {
      await stopServer(child);
    }
  });

  it('exits non-zero when the database cannot be opened, without printing its URL', async () => {
    const child = start({ DATABASE_URL: 'postgresql://user:hunter2@127.0.0.1:1/none' });
    const stderr = collect(child.stderr);
    expect(await exitCode(child)).toBe(1);
    expect(stderr()).toContain('Cannot open the feedback database (DATABASE_URL)');
    expect(stderr()).not.toContain('hunter2');
  });

  it('finishes an in-flight feedback write on SIGTERM, then closes the database', async () => {
    const sqlitePath = join(temp.path, 'shutdown.sqlite');
    const child = start({ SQLITE_PATH: sqlitePath });
    try {
      const origin = new URL(await waitForUrl(child));
      const model = await testModel();
      const body = Buffer.from(
        JSON.stringify({ records: Array.from({ length: 100 }, () => makeRecord(model)) }),
      );
      // By hand, to know when the request is in flight: "100 Continue" comes once the
      // server has parsed the headers; the body follows only after the signal.
      const socket = connect(Number(origin.port), origin.hostname);
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
      socket.write(
        [
          'POST /api/v1/feedback HTTP/1.1',
          `Host: ${origin.host}`,
          'Content-Type: application/json',
          `Content-Length: ${body.length}`,
          'Expect: 100-continue',
          'Connection: close',
          '',
          '',
        ].join('\r\n'),
      );
      while (!received.includes('100 Continue')) await once(socket, 'data');
      child.kill('SIGTERM');
      // The body goes only once the server has begun shutting down, or this would not test it.
      await waitForLine(child, 'shutting down after in-flight requests');
      socket.end(body);
      await once(socket, 'close');
      const response = received.slice(received.indexOf('\r\n\r\n') + 4);
      expect(response).toMatch(/^HTTP\/1\.1 200 /);
      const reply = feedbackReplySchema.parse(JSON.parse(response.split('\r\n\r\n')[1] ?? ''));
      expect(reply.results.every((r) => r.status === 'accepted')).toBe(true);
      expect(await exitCode(child)).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    const db = new Database(sqlitePath, { readonly: true });
    try {
      expect(db.prepare('SELECT count(*) FROM feedback').pluck().get()).toBe(100);
    } finally {
      db.close();
    }
  });
});
