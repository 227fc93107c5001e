import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../node/shared-paths';
import {
  makeTestRegistry,
  onPostgres,
  TEST_DATABASE_URL,
  type TestRegistry,
} from '../../test-support/stores';

/**
 * PostgreSQL connections that die while a process writes (a database restart, a failover,
 * pg_terminate_backend): the process must live on, and its next calls work. In a child
 * process, as a server runs: an 'error' event nobody listens to ends the process.
 */

/** The writer: the registry's changes and reads and the feedback store's inserts, in a loop until told to stop. */
const WRITER = `
  import { randomUUID } from 'node:crypto';
  import { openFeedbackStore } from ${JSON.stringify(join(PROJECT_ROOT, 'src/server/open-store.ts'))};
  import { openModelRegistry } from ${JSON.stringify(join(PROJECT_ROOT, 'src/server/registry/open-registry.ts'))};
  import { fakeVersion } from ${JSON.stringify(join(PROJECT_ROOT, 'src/server/registry/registry.fixtures.ts'))};
  const options = JSON.parse(process.env.FIELDID_REGISTRY_OPTIONS);
  const registry = await openModelRegistry(options);
  const store = await openFeedbackStore(options.database);
  const [v1, v2] = [fakeVersion('birds', 'one'), fakeVersion('birds', 'two')];
  for (const version of [v1, v2]) {
    const registered = await registry.register(version);
    if (!registered.ok) throw new Error(registered.error.code);
  }
  let stop = false;
  process.stdin.on('data', () => { stop = true; });
  const by = { actor: 'tester', note: null };
  const feedback = () => ({
    id: randomUUID(), payloadSha256: 'f'.repeat(64), modelId: 'birds', modelVersion: v1.version,
    verdict: 'confirmed', day: '2026-05-01', recordJson: '{}', photo: null,
  });
  console.log('ready');
  for (let i = 1; !stop; i++) {
    try {
      const rollout = await registry.rollout('birds', v2.version, { ...by, percent: (i % 99) + 1 });
      await registry.manifest();
      await store.insertMany([feedback()]);
      console.log(rollout.ok ? 'ok' : 'result ' + rollout.error.code);
    } catch (error) {
      console.log('threw ' + String(error.message).split('\\n')[0]);
    }
  }
  const next = await registry.rollout('birds', v2.version, { ...by, percent: 50.5 });
  console.log('next ' + (next.ok ? 'ok' : next.error.code));
  await Promise.all([registry.close(), store.close()]);
  console.log('closed');
  process.exit(0);
`;

const KILL_ROUNDS = 5;

describe.skipIf(!TEST_DATABASE_URL)('PostgreSQL connections lost during writes', () => {
  let t: TestRegistry;
  beforeEach(async () => {
    t = await makeTestRegistry({ database: 'postgres', files: 'database' });
  });
  afterEach(() => t.remove());

  it('leave the process running, and its next calls work', async () => {
    // The child's connections carry this name, so that only they are terminated (other
    // test files use the same database at the same time).
    const applicationName = `fieldid-loss-${randomBytes(6).toString('hex')}`;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', WRITER],
      {
        cwd: PROJECT_ROOT,
        env: {
          ...process.env,
          PGAPPNAME: applicationName,
          FIELDID_REGISTRY_OPTIONS: JSON.stringify(t.options),
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
    const lines: string[] = [];
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const split = (partial + chunk).split('\n');
      partial = split.pop() ?? '';
      lines.push(...split);
    });
    const oks = () => lines.filter((line) => line === 'ok').length;
    /** Until `done` holds; fails after a bound, or at once if the child has ended. */
    const until = async (done: () => boolean, what: string) => {
      const deadline = Date.now() + 30_000;
      while (!done()) {
        if (Date.now() > deadline || child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`${what}: ${lines.slice(-5).join(' | ')}\n${stderr}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const okAfter = (count: number) => until(() => oks() >= count, 'no write went through');
    try {
      await until(() => lines.includes('ready'), 'the writer did not start');
      await okAfter(3);
      let terminated = 0;
      for (let round = 0; round < KILL_ROUNDS; round++) {
        terminated += await onPostgres(t.database, async (client) => {
          const { rows } = await client.query<{ n: string }>(
            `SELECT count(pg_terminate_backend(pid))::text AS n FROM pg_stat_activity
             WHERE application_name = $1`,
            [applicationName],
          );
          return Number(rows[0]?.n ?? 0);
        });
        // Each loss is followed by writes that go through before the next.
        await okAfter(oks() + 3);
      }
      expect(terminated).toBeGreaterThanOrEqual(KILL_ROUNDS);
      // Some calls in flight failed: a thrown error or a Result, never a dead process.
      child.stdin.end('stop\n');
      const [code, signal] = await exited;
      expect({ code, signal }, stderr).toEqual({ code: 0, signal: null });
      expect(lines.slice(-2)).toEqual(['next ok', 'closed']);
    } finally {
      child.kill('SIGKILL');
    }
  }, 90_000);
});
