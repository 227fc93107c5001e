import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ERROR_MESSAGES } from '../core/errors';
import {
  feedbackExportLineSchema,
  feedbackReplySchema,
  toNdjsonLine,
  type FeedbackRecordInput,
} from '../core/feedback';
import { exifGpsApp1, withSegmentsAfterSoi } from '../core/photo-policy.fixtures';
import { loadModelRegistry } from '../node/model-registry';
import { buildApp } from './app';
import { folderSource } from './model-source';
import { CONTENT_SECURITY_POLICY } from './security';
import {
  buildTestApp,
  cleanPhoto,
  makeRecord,
  postFeedback,
  testModel,
  testRegistry,
  type TestApp,
  type TestModel,
} from '../../test-support/feedback';
import {
  copyModel,
  editFile,
  expectSecurityHeaders,
  makeTempDir,
} from '../../test-support/helpers';
import { makeTestDatabase, STORE_KINDS } from '../../test-support/stores';

const TOKEN = 'export-token-for-the-tests-0123456789';

let model: TestModel;
let photo: Buffer;
beforeAll(async () => {
  model = await testModel();
  photo = await cleanPhoto();
});

const reply = (body: string) => feedbackReplySchema.parse(JSON.parse(body));

async function exportLines(t: TestApp, query = '') {
  const res = await t.app.inject({
    url: `/api/v1/feedback/export${query}`,
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
  expectSecurityHeaders(res.headers);
  const lines = res.body.split('\n');
  expect(lines.pop()).toBe('');
  // Each line is written the one way every NDJSON line is.
  for (const line of lines) expect(`${line}\n`).toBe(toNdjsonLine(JSON.parse(line)));
  return lines.map((line) => feedbackExportLineSchema.parse(JSON.parse(line)));
}

// The same suite on every store: the API must not care which database is behind it.
describe.each(STORE_KINDS)('POST /api/v1/feedback on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(kind, { feedback: { exportToken: TOKEN } });
  });
  afterAll(() => t.close());

  it('stores a batch and answers each record, in order', async () => {
    const records = [
      makeRecord(model),
      makeRecord(model, { verdict: 'correct', correctedLabel: undefined }),
      makeRecord(model, {
        verdict: 'not-an-animal',
        correctedLabel: undefined,
        predicted: null,
        photo: photo.toString('base64'),
      }),
      makeRecord(model, {
        verdict: 'unknown-species',
        correctedLabel: undefined,
        freeTextName: '  Cafe\u0301 bird ',
      }),
    ];
    const before = await t.store.count();
    const res = await postFeedback(t.app, { records });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(reply(res.body)).toEqual({
      results: records.map((r) => ({ id: r.id, status: 'accepted' })),
    });
    expect(await t.store.count()).toBe(before + 4);

    const lines = (await exportLines(t)).slice(-4);
    expect(lines.map((line) => line.record.id)).toEqual(records.map((r) => r.id));
    expect(lines.map((line) => line.hasPhoto)).toEqual([false, false, true, false]);
    expect(lines[2]?.record.photo).toBeUndefined();
    const named = lines[3]?.record;
    expect(named?.verdict === 'unknown-species' && named.freeTextName).toBe('Caf\u00e9 bird');
  });

  it('answers duplicate for the same id and payload, however its JSON is written', async () => {
    const record = makeRecord(model);
    expect(reply((await postFeedback(t.app, { records: [record] })).body).results[0]?.status).toBe(
      'accepted',
    );
    const count = await t.store.count();
    // Same record, keys in another order, pretty-printed: still the same payload.
    const reordered = Object.fromEntries(Object.entries(record).reverse());
    const res = await postFeedback(t.app, JSON.stringify({ records: [reordered] }, null, 2));
    expect(res.statusCode).toBe(200);
    expect(reply(res.body).results).toEqual([{ id: record.id, status: 'duplicate' }]);
    expect(await t.store.count()).toBe(count);
  });

  it('rejects the same id with another payload as CONFLICT (422 when nothing was taken)', async () => {
    const record = makeRecord(model);
    await postFeedback(t.app, { records: [record] });
    const changed = { ...record, predicted: model.labels[5] };
    const res = await postFeedback(t.app, { records: [changed] });
    expect(res.statusCode).toBe(422);
    expect(reply(res.body).results).toEqual([
      { id: record.id, status: 'rejected', code: 'CONFLICT' },
    ]);
    const lines = await exportLines(t);
    const stored = lines.filter((line) => line.record.id === record.id);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.record.predicted).toBe(record.predicted);
  });

  it('handles one id twice in a batch like two requests', async () => {
    const record = makeRecord(model);
    const other = makeRecord(model);
    const res = await postFeedback(t.app, {
      records: [record, record, other, { ...other, day: '2026-05-02' }],
    });
    expect(res.statusCode).toBe(200);
    expect(reply(res.body).results).toEqual([
      { id: record.id, status: 'accepted' },
      { id: record.id, status: 'duplicate' },
      { id: other.id, status: 'accepted' },
      { id: other.id, status: 'rejected', code: 'CONFLICT' },
    ]);
  });

  it('rejects records the server cannot use, one by one, and keeps the others', async () => {
    const good = makeRecord(model);
    const gps = withSegmentsAfterSoi(photo, exifGpsApp1());
    const big = await cleanPhoto(600);
    const cases: [FeedbackRecordInput, string][] = [
      [
        makeRecord(model, { model: { id: model.entry.id, version: '0000000000' } }),
        'UNKNOWN_MODEL',
      ],
      [makeRecord(model, { model: { id: 'nope', version: model.entry.version } }), 'UNKNOWN_MODEL'],
      [
        makeRecord(model, { correctedLabel: 'Passer domesticus (House Sparrow)x' }),
        'UNKNOWN_LABEL',
      ],
      [makeRecord(model, { predicted: 'tabby, tabby cat' }), 'UNKNOWN_LABEL'],
      [
        makeRecord(model, {
          verdict: 'unknown-species',
          correctedLabel: undefined,
          freeTextName: '=HYPERLINK("https://evil.example","x")',
        }),
        'FORMULA_NOT_ALLOWED',
      ],
      [makeRecord(model, { photo: Buffer.from(gps).toString('base64') }), 'PHOTO_HAS_METADATA'],
      [makeRecord(model, { photo: big.toString('base64') }), 'PHOTO_TOO_LARGE'],
      [
        makeRecord(model, { photo: Buffer.from('GIF89a....').toString('base64') }),
        'UNSUPPORTED_FORMAT',
      ],
      [makeRecord(model, { day: '2099-01-01' }), 'VALIDATION_FAILED'],
    ];
    const before = await t.store.count();
    const res = await postFeedback(t.app, { records: [good, ...cases.map(([r]) => r)] });
    expect(res.statusCode).toBe(200);
    expect(reply(res.body).results).toEqual([
      { id: good.id, status: 'accepted' },
      ...cases.map(([r, code]) => ({ id: r.id, status: 'rejected', code })),
    ]);
    expect(await t.store.count()).toBe(before + 1);

    const none = await postFeedback(t.app, { records: cases.map(([r]) => r) });
    expect(none.statusCode).toBe(422);
    expect(await t.store.count()).toBe(before + 1);
  });

  it('takes feedback for a version an earlier start served, checked against its own labels', async () => {
    // Start 1 serves the shared models. Start 2, after a model update, serves a birds
    // model whose second label line was renamed, hence a new version.
    const database = await makeTestDatabase(kind);
    const models = await makeTempDir('models');
    try {
      const first = await buildTestApp(kind, { database });
      await first.close();

      const oldLine = model.labels[1] ?? '';
      const newLine = oldLine.replace(/\)$/, ' kite)');
      const dir = await copyModel(models.path, model.entry.id);
      await editFile(join(dir, 'labels.txt'), (text) =>
        text.replace(`\n${oldLine}\n`, `\n${newLine}\n`),
      );
      const registry = await loadModelRegistry(models.path);
      const updated = registry.manifest.models[0];
      if (!updated) throw new Error('no model in the copy');
      expect(updated.version).not.toBe(model.entry.version);
      expect(registry.labels(updated.id, model.entry.version)).toBeNull();

      const second = await buildTestApp(kind, { database, registry });
      try {
        const oldVersion = { id: model.entry.id, version: model.entry.version };
        const newVersion = { id: updated.id, version: updated.version };
        const corrected = (version: typeof oldVersion, label: string) =>
          makeRecord(model, {
            model: version,
            correctedLabel: label,
            top: [
              { label: model.labels[0], probability: 0.6 },
              { label, probability: 0.3 },
            ],
          });
        const cases: [FeedbackRecordInput, string | null][] = [
          [corrected(oldVersion, oldLine), null],
          [corrected(oldVersion, newLine), 'UNKNOWN_LABEL'],
          [corrected(newVersion, newLine), null],
          [corrected(newVersion, oldLine), 'UNKNOWN_LABEL'],
          [corrected({ ...oldVersion, version: '0000000000' }, oldLine), 'UNKNOWN_MODEL'],
        ];
        const res = await postFeedback(second.app, { records: cases.map(([r]) => r) });
        expect(res.statusCode).toBe(200);
        expect(reply(res.body).results).toEqual(
          cases.map(([r, code]) =>
            code === null
              ? { id: r.id, status: 'accepted' }
              : { id: r.id, status: 'rejected', code },
          ),
        );
        expect(await second.store.count()).toBe(2);
        expect(await second.store.servedModelLabels(oldVersion.id, oldVersion.version)).toEqual(
          model.labels,
        );
        expect(await second.store.servedModelLabels(newVersion.id, newVersion.version)).toContain(
          newLine,
        );
      } finally {
        await second.close();
      }
    } finally {
      await models.remove();
      await database.remove();
    }
  });

  it('finds a version another server remembered after this one started', async () => {
    const version = { id: model.entry.id, version: 'feed000001' };
    const send = () => postFeedback(t.app, { records: [makeRecord(model, { model: version })] });
    expect(reply((await send()).body).results[0]).toMatchObject({ code: 'UNKNOWN_MODEL' });
    await t.store.rememberModels([{ ...version, labels: model.labels }]);
    expect(reply((await send()).body).results[0]).toMatchObject({ status: 'accepted' });
  });

  it('takes 100 records at once and refuses 101 or none', async () => {
    const hundred = Array.from({ length: 100 }, () => makeRecord(model));
    const ok = await postFeedback(t.app, { records: hundred });
    expect(ok.statusCode).toBe(200);
    expect(reply(ok.body).results.every((r) => r.status === 'accepted')).toBe(true);

    for (const records of [[...hundred, makeRecord(model)], []]) {
      const res = await postFeedback(t.app, { records });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        error: { code: 'VALIDATION_FAILED', message: ERROR_MESSAGES.VALIDATION_FAILED },
      });
      expect(res.json().error.detail).toMatch(/^records: /);
    }
  });

  it('says which field is wrong', async () => {
    const res = await postFeedback(t.app, {
      records: [makeRecord(model), makeRecord(model, { day: '1 May' })],
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.detail).toBe('records.1.day: must be YYYY-MM-DD');
  });

  it('exports NDJSON behind the bearer token, from a cursor, photos on request', async () => {
    for (const authorization of [undefined, 'Bearer wrong', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const res = await t.app.inject({
        url: '/api/v1/feedback/export',
        headers: authorization ? { authorization } : {},
      });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.json().error.code).toBe('UNAUTHORIZED');
    }
    const all = await exportLines(t);
    expect(all.length).toBe(await t.store.count());
    expect(all.map((line) => line.seq)).toEqual(
      [...all.map((line) => line.seq)].sort((a, b) => a - b),
    );

    const withPhoto = all.find((line) => line.hasPhoto);
    if (!withPhoto) throw new Error('no record with a photo');
    const from = await exportLines(t, `?since=${withPhoto.seq - 1}&photos=1&limit=1`);
    expect(from).toHaveLength(1);
    expect(Buffer.from(String(from[0]?.record.photo), 'base64').equals(photo)).toBe(true);
    expect(await exportLines(t, `?since=${all.at(-1)?.seq}`)).toEqual([]);

    const bad = await t.app.inject({
      url: '/api/v1/feedback/export?since=-1',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('VALIDATION_FAILED');
  });

  it('never quotes an unknown query key back, however plain', async () => {
    for (const key of ['photo', 'secretkey', '%3Cscript%3Ealert(1)%3C%2Fscript%3E']) {
      const res = await t.app.inject({
        url: `/api/v1/feedback/export?since=0&${key}=1`,
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(res.statusCode).toBe(400);
      const { error } = res.json();
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.detail).toBe('(query): an unknown key');
      expect(res.body).not.toContain(decodeURIComponent(key).slice(0, 6));
    }
    const two = await t.app.inject({
      url: '/api/v1/feedback/export?secretone=1&secrettwo=2',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(two.json().error.detail).toBe('(query): 2 unknown keys');
    expect(two.body).not.toContain('secret');
  });

  it('names a plain unknown body key, and only counts any other', async () => {
    const res = await postFeedback(
      t.app,
      JSON.stringify({
        records: [{ ...makeRecord(model), freeTextname: 'x', '<img src=x onerror=alert(1)>': 1 }],
      }),
    );
    expect(res.statusCode).toBe(400);
    expect(res.json().error.detail).toBe('records.0: unknown keys "freeTextname" and 1 more');
    expect(res.body).not.toContain('img');
  });

  it('reports health, metrics and its OpenAPI document', async () => {
    const health = await t.app.inject('/healthz');
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });

    const metrics = await t.app.inject('/metrics');
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    const text = metrics.body;
    expect(text).toContain(`fieldid_feedback_records_stored ${await t.store.count()}`);
    expect(text).toMatch(/fieldid_feedback_records_total\{status="accepted"\} \d+/);
    expect(text).toMatch(/fieldid_feedback_records_total\{status="duplicate"\} \d+/);
    expect(text).toMatch(/fieldid_feedback_rejections_total\{code="CONFLICT"\} \d+/);
    expect(text).toMatch(/fieldid_feedback_rejections_total\{code="PHOTO_HAS_METADATA"\} 2/);
    expect(text).toMatch(/fieldid_feedback_requests_refused_total\{code="VALIDATION_FAILED"\} \d+/);
    expect(text).toMatch(
      /fieldid_http_requests_total\{route="\/api\/v1\/feedback",method="POST",status="200"\} \d+/,
    );
    expect(text).toMatch(
      /fieldid_http_request_duration_seconds_bucket\{le="0.1",route="\/api\/v1\/feedback",method="POST"\} \d+/,
    );

    const doc = (await t.app.inject('/api/v1/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/api/v1/feedback',
      '/api/v1/feedback/export',
      '/api/v1/openapi.json',
      '/healthz',
      '/metrics',
      '/models/manifest.json',
      '/models/{id}/{version}/{file}',
    ]);
    // The published request schema accepts what the server accepts, and refuses the rest.
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      ajv.addSchema(schema as object, `#/components/schemas/${name}`);
    }
    // The one the route refers to, as it comes in (FeedbackBatchInput).
    const bodyRef: string =
      doc.paths['/api/v1/feedback'].post.requestBody.content['application/json'].schema.$ref;
    const validate = ajv.compile(doc.components.schemas[bodyRef.split('/').at(-1) ?? '']);
    expect(validate({ records: [makeRecord(model)] })).toBe(true);
    expect(validate({ records: [{ ...makeRecord(model), ip: '1.2.3.4' }] })).toBe(false);
    expect(validate({ records: [] })).toBe(false);
    expect(validate({ records: [makeRecord(model, { verdict: 'maybe' })] })).toBe(false);
  });
});

describe('the feedback API, whatever the store', () => {
  const kind = STORE_KINDS[0] ?? 'sqlite';

  describe('rate limit', () => {
    // The plugin's window runs on Date.now: the tests move that clock, and only that one.
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['Date'] });
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    const limitedApp = (trustedProxies?: string[]) =>
      testRegistry().then((registry) =>
        buildApp(
          {
            distDir: '/nonexistent',
            logLevel: 'silent',
            trustedProxies,
            // A window of 20 s: 2 requests per window are 6 per minute.
            feedback: { rateLimit: { burst: 2, perMinute: 6 } },
          },
          { models: folderSource(registry) },
        ),
      );
    const send = (
      app: TestApp['app'],
      remoteAddress: string,
      headers: Record<string, string> = {},
    ) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/feedback',
        remoteAddress,
        headers: { 'content-type': 'application/json', ...headers },
        payload: { records: [makeRecord(model)] },
      });
    const statuses = async (
      app: TestApp['app'],
      requests: [string, Record<string, string>?][],
    ): Promise<number[]> => {
      const codes: number[] = [];
      for (const [address, headers] of requests)
        codes.push((await send(app, address, headers)).statusCode);
      return codes;
    };

    it('answers 429 with Retry-After past the burst, per client, until the window ends', async () => {
      vi.setSystemTime(Date.parse('2026-05-01T12:00:00Z'));
      const app = await limitedApp();
      try {
        expect(await statuses(app, [['192.0.2.1'], ['192.0.2.1']])).toEqual([200, 200]);
        const limited = await send(app, '192.0.2.1');
        expect(limited.statusCode).toBe(429);
        expect(limited.headers['retry-after']).toBe('20');
        expect(limited.json()).toEqual({
          error: { code: 'RATE_LIMITED', message: ERROR_MESSAGES.RATE_LIMITED },
        });
        expect((await send(app, '192.0.2.2')).statusCode).toBe(200); // another client
        vi.setSystemTime(Date.parse('2026-05-01T12:00:19Z'));
        expect((await send(app, '192.0.2.1')).statusCode).toBe(429);
        vi.setSystemTime(Date.parse('2026-05-01T12:00:20Z'));
        expect(await statuses(app, [['192.0.2.1'], ['192.0.2.1'], ['192.0.2.1']])).toEqual([
          200, 200, 429,
        ]);
      } finally {
        await app.close();
      }
    });

    it('counts every address of one IPv6 /64 as one client', async () => {
      vi.setSystemTime(Date.parse('2026-05-01T12:00:00Z'));
      const app = await limitedApp();
      try {
        // One phone picks a new address of its /64 for each request.
        const rotating = Array.from({ length: 8 }, (_, i): [string] => [
          `2001:db8:1:2:${(i + 1).toString(16)}::${i * 7 + 1}`,
        ]);
        expect(await statuses(app, rotating)).toEqual([200, 200, 429, 429, 429, 429, 429, 429]);
        expect((await send(app, '2001:db8:1:3::1')).statusCode).toBe(200); // another /64
      } finally {
        await app.close();
      }
    });

    it('counts an IPv4 client once, whether its address comes mapped or plain', async () => {
      vi.setSystemTime(Date.parse('2026-05-01T12:00:00Z'));
      const app = await limitedApp();
      try {
        expect(
          await statuses(app, [['::ffff:192.0.2.1'], ['192.0.2.1'], ['::ffff:192.0.2.1']]),
        ).toEqual([200, 200, 429]);
        expect((await send(app, '192.0.2.1')).statusCode).toBe(429);
      } finally {
        await app.close();
      }
    });

    it('forgets every client at the end of the UTC day (new salt, new keys)', async () => {
      vi.setSystemTime(Date.parse('2026-05-01T23:59:55Z'));
      const app = await limitedApp();
      try {
        expect(await statuses(app, [['192.0.2.1'], ['192.0.2.1'], ['192.0.2.1']])).toEqual([
          200, 200, 429,
        ]);
        // Ten seconds on, the window is still running, but the key is another one.
        vi.setSystemTime(Date.parse('2026-05-02T00:00:05Z'));
        expect((await send(app, '192.0.2.1')).statusCode).toBe(200);
      } finally {
        await app.close();
      }
    });

    it('ignores X-Forwarded-For from a peer that is not a listed proxy', async () => {
      vi.setSystemTime(Date.parse('2026-05-01T12:00:00Z'));
      const app = await limitedApp();
      try {
        // Each request claims another client; they are all the peer's.
        const spoofed = ['203.0.113.1', '203.0.113.2', '203.0.113.3'].map(
          (client): [string, Record<string, string>] => [
            '192.0.2.1',
            { 'x-forwarded-for': client },
          ],
        );
        expect(await statuses(app, spoofed)).toEqual([200, 200, 429]);
      } finally {
        await app.close();
      }
    });

    it('takes the client from X-Forwarded-For when the peer is a listed proxy', async () => {
      vi.setSystemTime(Date.parse('2026-05-01T12:00:00Z'));
      const app = await limitedApp(['192.0.2.0/24']);
      try {
        const via = (client: string): [string, Record<string, string>] => [
          '192.0.2.10',
          { 'x-forwarded-for': client },
        ];
        expect(
          await statuses(app, [
            via('203.0.113.1'),
            via('203.0.113.1'),
            via('203.0.113.2'),
            via('203.0.113.1'),
            // A client that prepends its own claim is still keyed by what the proxy saw.
            via('198.51.100.1, 203.0.113.2'),
          ]),
        ).toEqual([200, 200, 200, 429, 200]);
      } finally {
        await app.close();
      }
    });
  });

  it('answers 404 for the export when no token is configured', async () => {
    const t = await buildTestApp(kind);
    try {
      const res = await t.app.inject({
        url: '/api/v1/feedback/export',
        headers: { authorization: 'Bearer anything' },
      });
      expect(res.statusCode).toBe(404);
      const doc = (await t.app.inject('/api/v1/openapi.json')).json();
      expect(Object.keys(doc.paths)).not.toContain('/api/v1/feedback/export');
    } finally {
      await t.close();
    }
  });

  it('answers 503 from /healthz when the database is gone', async () => {
    const t = await buildTestApp(kind);
    try {
      await t.store.close();
      const res = await t.app.inject('/healthz');
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'unavailable' });
    } finally {
      await t.close();
    }
  });

  it('answers 500, never UNKNOWN_MODEL, when the database cannot say what was served', async () => {
    const t = await buildTestApp(kind);
    try {
      await t.store.close();
      const old = makeRecord(model, { model: { id: model.entry.id, version: 'feed000002' } });
      const res = await postFeedback(t.app, { records: [old] });
      expect(res.statusCode).toBe(500);
      expect(res.json().error.code).toBe('INTERNAL');
    } finally {
      await t.close();
    }
  });

  it('logs no address, user agent, query or body', async () => {
    const lines: string[] = [];
    const t = await buildTestApp(kind, { logStream: { write: (line) => lines.push(line) } });
    try {
      const record = makeRecord(model, {
        verdict: 'unknown-species',
        correctedLabel: undefined,
        freeTextName: 'secret-name-in-body',
      });
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/feedback?who=secret-query',
        remoteAddress: '198.51.100.77',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'SecretBrowser/1.0',
          'x-forwarded-for': '203.0.113.9',
        },
        payload: { records: [record] },
      });
      await t.app.inject({ url: '/healthz', remoteAddress: '198.51.100.77' });
      const log = lines.join('');
      expect(log).toContain('"route":"/api/v1/feedback"');
      expect(log).toContain('"statusCode":200');
      for (const secret of [
        '198.51.100.77',
        '203.0.113.9',
        'SecretBrowser',
        'secret-query',
        'secret-name-in-body',
        record.id,
      ]) {
        expect(log).not.toContain(secret);
      }
    } finally {
      await t.close();
    }
  });

  it('sends the security headers, with a CSP for the worker and wasm', async () => {
    const t = await buildTestApp(kind);
    try {
      const res = await t.app.inject('/healthz');
      const csp = String(res.headers['content-security-policy']);
      for (const [directive, values] of Object.entries(CONTENT_SECURITY_POLICY)) {
        expect(csp).toContain(`${directive} ${values.join(' ')}`);
      }
      // blob: for the threaded wasm's helper workers, which importScripts() a blob: URL.
      expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval' blob:");
      expect(csp).toContain("worker-src 'self' blob:");
      expect(csp).toContain("connect-src 'self' https: data:");
      expect(csp.split(/[ ;]/)).not.toContain("'unsafe-eval'");
      expect(csp.split(/[ ;]/)).not.toContain("'unsafe-inline'");
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['cross-origin-embedder-policy']).toBe('require-corp');
      expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    } finally {
      await t.close();
    }
  });

  it('allows cross-origin calls from the CORS_ORIGINS list only', async () => {
    const preflight = (app: TestApp['app'], origin: string) =>
      app.inject({
        method: 'OPTIONS',
        url: '/api/v1/feedback',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
    const closed = await buildTestApp(kind);
    const open = await buildTestApp(kind, {
      feedback: { corsOrigins: ['https://field.example.org'] },
    });
    try {
      const none = await preflight(closed.app, 'https://field.example.org');
      expect(none.headers['access-control-allow-origin']).toBeUndefined();
      const allowed = await preflight(open.app, 'https://field.example.org');
      expect(allowed.statusCode).toBe(204);
      expect(allowed.headers['access-control-allow-origin']).toBe('https://field.example.org');
      const other = await preflight(open.app, 'https://evil.example');
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await closed.close();
      await open.close();
    }
  });
});
