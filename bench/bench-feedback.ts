import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import type { FeedbackRecordInput } from '../src/core/feedback';
import { parseServedManifest } from '../src/core/model-channels';
import { splitLabelLines } from '../src/core/labels';
import { startServer } from '../test-support/server-process';

/**
 * Load test of POST /api/v1/feedback: the real server in a child process, autocannon in
 * this one, over loopback. Every request carries a batch of fresh records (new UUIDs, so
 * each is a real insert). Runs on SQLite, and on PostgreSQL when DATABASE_URL or
 * TEST_DATABASE_URL is set (in a schema of its own, dropped afterwards).
 */

export interface FeedbackBenchOptions {
  durationSeconds?: number;
  connections?: number;
  recordsPerRequest?: number;
}

export interface FeedbackStoreBench {
  store: 'sqlite' | 'postgres';
  durationSeconds: number;
  connections: number;
  recordsPerRequest: number;
  requests: number;
  /** Responses other than 200, and connection errors: both should be 0. */
  non2xx: number;
  errors: number;
  /** Counted by the server (`fieldid_feedback_records_stored`), not inferred. */
  recordsStored: number;
  recordsPerSecond: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; mean: number; max: number };
}

export interface FeedbackBenchReport {
  name: 'feedback-api';
  node: string;
  setup: string;
  results: FeedbackStoreBench[];
  skipped: { store: 'postgres'; reason: string }[];
}

const DEFAULTS = { durationSeconds: 10, connections: 10, recordsPerRequest: 10 };
const WARMUP_REQUESTS = 50;

export async function benchFeedback(
  options: FeedbackBenchOptions = {},
): Promise<FeedbackBenchReport> {
  const settings = { ...DEFAULTS, ...options };
  const results: FeedbackStoreBench[] = [];
  const skipped: FeedbackBenchReport['skipped'] = [];

  const temp = await mkdtemp(join(tmpdir(), 'fieldid-bench-feedback-'));
  try {
    results.push(
      await benchStore('sqlite', { SQLITE_PATH: join(temp, 'feedback.sqlite') }, settings),
    );
  } finally {
    await rm(temp, { recursive: true, force: true });
  }

  const databaseUrl = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL;
  if (databaseUrl) {
    const schema = `bench_${randomBytes(6).toString('hex')}`;
    try {
      results.push(
        await benchStore('postgres', { DATABASE_URL: databaseUrl, PG_SCHEMA: schema }, settings),
      );
    } finally {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => client.end());
    }
  } else {
    skipped.push({
      store: 'postgres',
      reason: 'neither DATABASE_URL nor TEST_DATABASE_URL is set',
    });
  }

  return {
    name: 'feedback-api',
    node: process.version,
    setup: `server (LOG_LEVEL=warn) in a child process, autocannon in the parent, loopback; ${settings.connections} connections, ${settings.recordsPerRequest} new records per request`,
    results,
    skipped,
  };
}

async function benchStore(
  store: FeedbackStoreBench['store'],
  env: Record<string, string>,
  settings: typeof DEFAULTS,
): Promise<FeedbackStoreBench> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const server = start({ ...env, PORT: String(port) });
  try {
    await waitForServer(server, origin);
    const makeBatch = await batchMaker(origin, settings.recordsPerRequest);
    const url = `${origin}/api/v1/feedback`;
    const headers = { 'content-type': 'application/json' };
    for (let i = 0; i < WARMUP_REQUESTS; i++) {
      const res = await fetch(url, { method: 'POST', headers, body: makeBatch() });
      if (res.status !== 200) throw new Error(`warm-up request answered ${res.status}`);
    }
    const storedBefore = await storedRecords(origin);

    const result = await autocannon({
      url,
      connections: settings.connections,
      duration: settings.durationSeconds,
      requests: [
        {
          method: 'POST',
          headers,
          // A fresh batch per request: every record is a new insert, never a duplicate.
          setupRequest: (request) => ({ ...request, body: makeBatch() }),
        },
      ],
    });
    const recordsStored = (await storedRecords(origin)) - storedBefore;
    const round = (n: number) => Math.round(n * 100) / 100;
    return {
      store,
      durationSeconds: result.duration,
      connections: settings.connections,
      recordsPerRequest: settings.recordsPerRequest,
      requests: result['2xx'] + result.non2xx,
      non2xx: result.non2xx,
      errors: result.errors,
      recordsStored,
      recordsPerSecond: Math.round(recordsStored / result.duration),
      requestsPerSecond: round(result['2xx'] / result.duration),
      latencyMs: {
        p50: result.latency.p50,
        p90: result.latency.p90,
        p99: result.latency.p99,
        mean: round(result.latency.mean),
        max: result.latency.max,
      },
    };
  } finally {
    server.kill('SIGTERM');
    if (server.exitCode === null) await once(server, 'exit');
  }
}

function start(env: Record<string, string>): ChildProcess {
  return startServer(
    {
      LOG_LEVEL: 'warn',
      RATE_LIMIT_BURST: '100000000',
      RATE_LIMIT_PER_MINUTE: '100000000',
      ...env,
    },
    { stdout: 'ignore', stderr: 'inherit' },
  );
}

/** Polls /healthz until the server answers (it logs nothing at LOG_LEVEL=warn). */
async function waitForServer(child: ChildProcess, origin: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    const ok = await fetch(`${origin}/healthz`).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the server did not start listening in time');
}

/** A port that was free a moment ago (the server is told to use it). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

async function storedRecords(origin: string): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const match = /^fieldid_feedback_records_stored (\d+)$/m.exec(text);
  if (!match?.[1]) throw new Error('no fieldid_feedback_records_stored in /metrics');
  return Number(match[1]);
}

/** Batches of valid records for the first model the server lists, each with a new id. */
async function batchMaker(origin: string, size: number): Promise<() => string> {
  const parsed = parseServedManifest(await (await fetch(`${origin}/models/manifest.json`)).json());
  if (!parsed.ok) throw new Error(parsed.reason);
  const entry = parsed.manifest.models[0];
  if (!entry) throw new Error('no model');
  const labels = splitLabelLines(await (await fetch(`${origin}${entry.baseUrl}labels.txt`)).text());
  const pick = () => labels[Math.floor(Math.random() * labels.length)] ?? '';
  const model = { id: entry.id, version: entry.version };
  const record = (): FeedbackRecordInput => {
    const predicted = pick();
    let correctedLabel = pick();
    while (correctedLabel === predicted) correctedLabel = pick();
    return {
      id: randomUUID(),
      model,
      predicted,
      verdict: 'corrected',
      correctedLabel,
      day: new Date().toISOString().slice(0, 10),
      top: [
        { label: predicted, probability: 0.6 },
        { label: correctedLabel, probability: 0.2 },
      ],
      appVersion: 'bench',
    };
  };
  return () => JSON.stringify({ records: Array.from({ length: size }, record) });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const report = await benchFeedback();
  console.log(JSON.stringify(report, null, 2));
}
