import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseChannelManifest } from '../core/model-channels';
import { entryOf } from '../node/model-folder';
import { buildApp } from './app';
import type { FeedbackStore } from './feedback-store';
import { IMMUTABLE } from './model-http';
import { openLiveModels, type LiveModels } from './registry/live-models';
import type { ModelRegistryService, NewVersion } from './registry/registry';
import { fakeVersion } from './registry/registry.fixtures';
import { makeRecord, postFeedback } from '../../test-support/feedback';
import { expectSecurityHeaders } from '../../test-support/helpers';
import {
  alterStored,
  makeTestRegistry,
  REGISTRY_SETUPS,
  type TestRegistry,
} from '../../test-support/stores';

/** /models and feedback served from the registry, as server.ts wires them, through `inject`. */

const BY = { actor: 'tester', note: null };
const v1 = fakeVersion('birds', 'one');
const v2 = fakeVersion('birds', 'two', {
  labels: ['Alpha alpha (Alpha)', 'Delta delta (Delta)', 'Gamma gamma (Gamma)'],
});
const v3 = fakeVersion('birds', 'three', {
  labels: ['Omega omega (Omega)', 'Beta beta (Beta)', 'Sigma sigma (Sigma)'],
});

describe.each(REGISTRY_SETUPS)(
  'the app on the registry ($database, files in a $files)',
  (setup) => {
    let t: TestRegistry;
    let registry: ModelRegistryService;
    let writer: ModelRegistryService;
    let live: LiveModels;
    let store: FeedbackStore;
    let app: FastifyInstance;

    const build = async (models: LiveModels) => {
      const built = buildApp(
        {
          distDir: '/nonexistent',
          logLevel: 'silent',
          feedback: { rateLimit: { burst: 10_000, perMinute: 600_000 } },
        },
        { models, store },
      );
      await built.ready();
      return built;
    };

    beforeEach(async () => {
      t = await makeTestRegistry(setup);
      store = await t.database.open();
      registry = await t.open();
      writer = await t.open();
      for (const version of [v1, v2, v3]) {
        const result = await writer.register(version);
        if (!result.ok) throw new Error(result.error.code);
      }
      // Refreshed by hand below, so each step is seen at once.
      live = await openLiveModels(registry, { refreshMs: 60_000, cacheBytes: 1024 * 1024 });
      app = await build(live);
    });
    afterEach(async () => {
      await app.close();
      live.close();
      await Promise.all([registry.close(), writer.close(), store.close()]);
      await t.remove();
    });

    const manifest = async () => {
      const res = await app.inject('/models/manifest.json');
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('no-cache');
      const parsed = parseChannelManifest(res.json());
      if (!parsed.ok) throw new Error(parsed.reason);
      return { manifest: parsed.manifest, etag: String(res.headers.etag) };
    };

    it('serves the channels as they move: rollout, promote, rollback', async () => {
      const first = await manifest();
      expect(first.manifest.models.birds).toEqual({ stable: entryOf(v1) });
      const unchanged = await app.inject({
        url: '/models/manifest.json',
        headers: { 'if-none-match': first.etag },
      });
      expect(unchanged.statusCode).toBe(304);

      const rollout = await writer.rollout('birds', v2.version, {
        ...BY,
        percent: 12.5,
        shadowRate: 0.1,
      });
      if (!rollout.ok) throw new Error(rollout.error.code);
      await live.refresh();
      const rolled = await manifest();
      expect(rolled.etag).not.toBe(first.etag);
      expect(rolled.manifest.models.birds).toEqual({
        stable: entryOf(v1),
        candidate: { ...entryOf(v2), percent: 12.5, salt: rollout.value.salt, shadowRate: 0.1 },
      });
      const stale = await app.inject({
        url: '/models/manifest.json',
        headers: { 'if-none-match': first.etag },
      });
      expect(stale.statusCode).toBe(200);

      await writer.promote('birds', v2.version, BY);
      await live.refresh();
      expect((await manifest()).manifest.models.birds).toEqual({ stable: entryOf(v2) });

      await writer.rollback('birds', BY);
      await live.refresh();
      expect((await manifest()).manifest.models.birds).toEqual({ stable: entryOf(v1) });
    });

    it('serves the files of the stable and the candidate version, as the folder did; no others', async () => {
      await writer.rollout('birds', v2.version, { ...BY, percent: 50 });
      await live.refresh();
      for (const version of [v1, v2]) {
        for (const file of version.files) {
          const url = `/models/birds/${version.version}/${file.path}`;
          const res = await app.inject(url);
          expect(res.statusCode, url).toBe(200);
          expect(res.rawPayload.equals(Buffer.from(file.data))).toBe(true);
          expect(res.headers.etag).toBe(`"${file.sha256}"`);
          expect(res.headers['cache-control']).toBe(IMMUTABLE);
          expect(res.headers['content-length']).toBe(String(file.bytes));
          expectSecurityHeaders(res.headers);

          const head = await app.inject({ method: 'HEAD', url });
          expect(head.statusCode).toBe(200);
          expect(head.headers['content-length']).toBe(String(file.bytes));
          expect(head.rawPayload.length).toBe(0);
          const cached = await app.inject({
            url,
            headers: { 'if-none-match': `"${file.sha256}"` },
          });
          expect(cached.statusCode).toBe(304);
        }
      }
      const types = await Promise.all(
        v2.files.map(
          async (f) =>
            (await app.inject(`/models/birds/${v2.version}/${f.path}`)).headers['content-type'],
        ),
      );
      expect(types).toEqual([
        'application/json; charset=utf-8',
        'application/octet-stream',
        'text/plain; charset=utf-8',
      ]);
      // Registered but on no channel: not served.
      const unlisted = await app.inject(`/models/birds/${v3.version}/model.json`);
      expect(unlisted.statusCode).toBe(404);
    });

    /** A 500 that no cache keeps: no year-long cache-control, not the file's etag. */
    const expectUncacheable500 = (res: Awaited<ReturnType<FastifyInstance['inject']>>) => {
      expect(res.statusCode).toBe(500);
      expect(res.headers['cache-control']).not.toBe(IMMUTABLE);
      expect(String(res.headers['cache-control'] ?? '')).not.toMatch(/max-age|immutable/);
      expect(res.headers.etag).toBeUndefined();
    };

    it('answers 500 (details in the log only, nothing cacheable) for a stored file altered since registration', async () => {
      const shard = v1.files[1]!;
      await alterStored(t, shard.sha256);
      const url = `/models/birds/${v1.version}/${shard.path}`;
      const res = await app.inject(url);
      expectUncacheable500(res);
      expect(res.json().error.code).toBe('INTERNAL');
      expect(res.body).not.toContain('MODEL_FILE_CHANGED');
      // HEAD answers as GET would: not a 200 for a file that cannot be sent.
      expectUncacheable500(await app.inject({ method: 'HEAD', url }));
      // The others are still served.
      expect((await app.inject(`/models/birds/${v1.version}/labels.txt`)).statusCode).toBe(200);
    });

    it('answers 500, nothing cacheable, for a file it cannot read because the database is gone', async () => {
      await registry.close();
      const url = `/models/birds/${v1.version}/${v1.files[0]!.path}`;
      expectUncacheable500(await app.inject(url));
      expectUncacheable500(await app.inject({ method: 'HEAD', url }));
    });

    it('takes feedback for every registered version, each checked against its own labels', async () => {
      await writer.rollout('birds', v2.version, { ...BY, percent: 50 });
      await live.refresh();
      const model = (version: NewVersion, labels: string[]) => ({
        entry: entryOf(version),
        labels,
      });
      const cases: [ReturnType<typeof makeRecord>, string | null][] = [
        // stable, candidate, and a version registered but never rolled out
        [
          makeRecord(model(v1, ['Alpha alpha (Alpha)', 'Beta beta (Beta)', 'Gamma gamma (Gamma)'])),
          null,
        ],
        [
          makeRecord(
            model(v2, ['Alpha alpha (Alpha)', 'Delta delta (Delta)', 'Gamma gamma (Gamma)']),
          ),
          null,
        ],
        [
          makeRecord(model(v3, ['Omega omega (Omega)', 'Beta beta (Beta)', 'Sigma sigma (Sigma)'])),
          null,
        ],
        [
          makeRecord(
            model(v1, ['Alpha alpha (Alpha)', 'Delta delta (Delta)', 'Gamma gamma (Gamma)']),
          ),
          'UNKNOWN_LABEL',
        ],
        [
          makeRecord({
            entry: { ...entryOf(v1), version: '0000000000' },
            labels: ['Alpha alpha (Alpha)', 'Beta beta (Beta)', 'Gamma gamma (Gamma)'],
          }),
          'UNKNOWN_MODEL',
        ],
      ];
      const res = await postFeedback(app, { records: cases.map(([record]) => record) });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().results).toEqual(
        cases.map(([record, code]) =>
          code === null
            ? { id: record.id, status: 'accepted' }
            : { id: record.id, status: 'rejected', code },
        ),
      );
    });

    it('remembers the versions the channels list, at start and after each change', async () => {
      expect(await store.servedModelLabels('birds', v1.version)).toHaveLength(3);
      expect(await store.servedModelLabels('birds', v2.version)).toBeNull();
      await writer.rollout('birds', v2.version, { ...BY, percent: 1 });
      await live.refresh();
      await expect
        .poll(() => store.servedModelLabels('birds', v2.version))
        .toContain('Delta delta (Delta)');
    });
  },
);
