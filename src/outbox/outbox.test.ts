import 'fake-indexeddb/auto';
import type { FastifyInstance } from 'fastify';
import { openDB } from 'idb';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  feedbackRecordSchema,
  feedbackReplySchema,
  type FeedbackRecord,
  type FeedbackResult,
} from '../core/feedback';
import {
  OUTBOX_MAX_DELAY_MS,
  OUTBOX_MAX_REFUSALS,
  OUTBOX_SEND_TIMEOUT_MS,
} from '../core/outbox-policy';
import type { StoredFeedback } from '../server/feedback-store';
import {
  buildTestApp,
  makeRecord,
  testModel,
  type TestApp,
  type TestModel,
} from '../../test-support/feedback';
import {
  dueRecords,
  enqueue,
  markDelivered,
  markSolo,
  OUTBOX_DB_NAME,
  outboxSnapshot,
  reschedule,
  sendAgain,
  setAside,
  type WaitingRecord,
} from './outbox-db';
import { flushOutbox } from './sender';

/**
 * The real outbox code (idb) on fake-indexeddb, a complete IndexedDB in memory; the
 * sender against the real server app (real SQLite file, real models) through `inject`.
 */

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function record(n: number, overrides: Record<string, unknown> = {}): FeedbackRecord {
  return feedbackRecordSchema.parse({
    id: uuid(n),
    model: { id: 'inat-birds-mobilenet-v2', version: 'abc123def0' },
    predicted: 'Turdus migratorius (American Robin)',
    verdict: 'correct',
    day: '2026-05-01',
    appVersion: '0.1.0',
    ...overrides,
  });
}

async function outboxCounts() {
  const snapshot = await outboxSnapshot();
  const { waiting, nextAttemptAt } = snapshot;
  return { waiting, rejected: snapshot.setAside.length, nextAttemptAt };
}

const setAsideRecords = async () => (await outboxSnapshot()).setAside;

/** A second connection, as another tab or the service worker would have. */
async function rawDb() {
  await outboxSnapshot(); // the module creates the stores first
  return openDB(OUTBOX_DB_NAME);
}

async function rawRows(): Promise<unknown[]> {
  const raw = await rawDb();
  try {
    return await raw.getAll('waiting');
  } finally {
    raw.close();
  }
}

beforeEach(async () => {
  const raw = await rawDb();
  const tx = raw.transaction(['waiting', 'rejected', 'delivered'], 'readwrite');
  await Promise.all(
    ['waiting', 'rejected', 'delivered'].map((name) => tx.objectStore(name).clear()),
  );
  await tx.done;
  raw.close();
});

const ids = (rows: readonly { id: string }[]) => rows.map((row) => row.id);

describe('the outbox database', () => {
  it('queues records and counts them', async () => {
    expect(await outboxCounts()).toEqual({ waiting: 0, rejected: 0, nextAttemptAt: null });
    await enqueue(record(1), 'obs-1', 1_000);
    await enqueue(record(2), null, 2_000);
    expect(await outboxCounts()).toEqual({ waiting: 2, rejected: 0, nextAttemptAt: 1_000 });
    const due = await dueRecords(5_000);
    expect(due).toEqual<WaitingRecord[]>([
      {
        id: uuid(1),
        record: record(1),
        observationId: 'obs-1',
        queuedAt: 1_000,
        attempts: 0,
        nextAttemptAt: 1_000,
        solo: false,
        refusals: 0,
        sentAt: null,
        waitsFor: 'network',
        held: false,
      },
      {
        id: uuid(2),
        record: record(2),
        observationId: null,
        queuedAt: 2_000,
        attempts: 0,
        nextAttemptAt: 2_000,
        solo: false,
        refusals: 0,
        sentAt: null,
        waitsFor: 'network',
        held: false,
      },
    ]);
  });

  it('replaces the unsent record of the same observation, and only that one', async () => {
    await enqueue(record(1), 'obs-1', 1_000);
    await enqueue(record(2), 'obs-2', 1_100);
    await enqueue(record(3), null, 1_200);
    await enqueue(record(4), null, 1_300);
    await enqueue(record(5, { verdict: 'not-an-animal', predicted: null }), 'obs-1', 1_400);
    expect(ids(await dueRecords(10_000))).toEqual([uuid(2), uuid(3), uuid(4), uuid(5)]);
    expect((await outboxCounts()).waiting).toBe(4);
  });

  it('gives out due records oldest first, and none before its time', async () => {
    await enqueue(record(1), null, 3_000);
    await enqueue(record(2), null, 1_000);
    await enqueue(record(3), null, 2_000);
    expect(await dueRecords(999)).toEqual([]);
    expect(ids(await dueRecords(2_000))).toEqual([uuid(2), uuid(3)]);
    expect(ids(await dueRecords(3_000))).toEqual([uuid(2), uuid(3), uuid(1)]);
  });

  it('reschedules with the delay for the attempts made so far, and counts the attempt', async () => {
    await enqueue(record(1), null, 0);
    await enqueue(record(2), null, 0);
    const delays: number[] = [];
    const delayFor = (attempts: number) => {
      delays.push(attempts);
      return 1_000 * 2 ** attempts;
    };
    await reschedule([uuid(1), uuid(99)], delayFor, 100, 'network');
    await reschedule([uuid(1)], delayFor, 200, 'network');
    expect(delays).toEqual([0, 1]);
    expect(ids(await dueRecords(2_199))).toEqual([uuid(2)]);
    const [first] = (await dueRecords(2_200)).filter((row) => row.id === uuid(1));
    expect(first).toMatchObject({ attempts: 2, nextAttemptAt: 2_200, queuedAt: 0 });
    expect(await outboxCounts()).toMatchObject({ waiting: 2, nextAttemptAt: 0 });
  });

  it('sets refused records aside with their code, out of the waiting ones', async () => {
    await enqueue(record(1), null, 0);
    await enqueue(record(2), null, 0);
    await setAside(
      [
        { id: uuid(1), code: 'UNKNOWN_LABEL' },
        { id: uuid(99), code: 'HTTP_413' },
      ],
      500,
    );
    expect(await outboxCounts()).toEqual({ waiting: 1, rejected: 1, nextAttemptAt: 0 });
    expect(await setAsideRecords()).toEqual([
      { id: uuid(1), record: record(1), code: 'UNKNOWN_LABEL', detail: null, setAsideAt: 500 },
    ]);
    expect(ids(await dueRecords(1_000))).toEqual([uuid(2)]);
  });

  it('removes sent records and marks records to be sent alone', async () => {
    await enqueue(record(1), null, 0);
    await enqueue(record(2), null, 0);
    await enqueue(record(3), null, 0);
    await markSolo([uuid(2), uuid(99)]);
    await markDelivered([uuid(1), uuid(98)], 0);
    const due = await dueRecords(0);
    expect(due.map((row) => [row.id, row.solo])).toEqual([
      [uuid(2), true],
      [uuid(3), false],
    ]);
  });

  it('sets aside a row damaged in the database (or from another schema), and never sends it', async () => {
    await enqueue(record(1), null, 0);
    const good = (await rawRows())[0] as WaitingRecord;
    const damaged: unknown[] = [
      { ...good, id: uuid(2), record: { ...record(2), day: '2026-13-45' } },
      { ...good, id: uuid(3), record: { ...record(3), ip: '192.0.2.1' } },
      { ...good, id: uuid(4), record: record(5) }, // keyed under another id
      { ...good, id: uuid(6), record: record(6), nextAttemptAt: undefined },
      { ...good, id: uuid(7), record: record(7), queuedAt: 'yesterday' },
      { ...good, id: uuid(8), record: record(8), attempts: -1 },
      { ...good, id: uuid(9), record: record(9), solo: 'yes' },
      { id: uuid(10), record: null },
      { id: uuid(11) },
    ];
    const raw = await rawDb();
    for (const row of damaged) await raw.put('waiting', row);
    raw.close();
    expect((await outboxCounts()).waiting).toBe(damaged.length + 1);

    const bodies: unknown[] = [];
    const fetchFn = (async (_url: unknown, init?: RequestInit) => {
      bodies.push(JSON.parse(String(init?.body)));
      return Response.json({ results: [{ id: uuid(1), status: 'accepted' }] });
    }) as typeof fetch;
    expect(await flushOutbox(fetchFn)).toEqual({ sent: 1, rejected: 0, retryLater: 0 });
    expect(bodies).toEqual([{ records: [record(1)] }]);
    expect(await rawRows()).toEqual([]);
    // Kept, every one, under its key and with the reason.
    expect(await outboxCounts()).toEqual({
      waiting: 0,
      rejected: damaged.length,
      nextAttemptAt: null,
    });
    const kept = await setAsideRecords();
    expect(kept.map((row) => row.id).sort()).toEqual(
      damaged.map((row) => (row as { id: string }).id).sort(),
    );
    for (const row of kept) {
      expect(row.code).toBe('VALIDATION_FAILED');
      expect(row.detail).toMatch(/^stored record: /);
    }
    expect(kept.find((row) => row.id === uuid(2))?.detail).toMatch(/record\.day/);
    // A record that still passes the schema is there to be sent again.
    expect(kept.find((row) => row.id === uuid(6))?.record).toEqual(record(6));
    expect(kept.find((row) => row.id === uuid(2))?.record).toBeNull();
    const again = await rawDb();
    const stored = (await again.get('rejected', uuid(3))) as { record: unknown };
    again.close();
    expect(stored.record).toEqual({ ...record(3), ip: '192.0.2.1' });
  });
});

interface Exchange {
  sentIds: string[];
  status: number;
  results: FeedbackResult[] | null;
}

/**
 * A `fetch` that hands the request to the app with `inject` and answers with a real
 * `Response`. `loseReplies` replies are lost after the server has handled the request,
 * as when the connection drops on the way back.
 */
function fetchThrough(app: FastifyInstance, options: { loseReplies?: number } = {}) {
  const exchanges: Exchange[] = [];
  let toLose = options.loseReplies ?? 0;
  const fetchFn = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    const body = typeof init?.body === 'string' ? init.body : undefined;
    const res = await app.inject({
      method: (init?.method ?? 'GET') as 'GET' | 'POST',
      url,
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      ...(body === undefined ? {} : { payload: body }),
    });
    const parsed = feedbackReplySchema.safeParse(safeJson(res.payload));
    exchanges.push({
      sentIds: body === undefined ? [] : ids(JSON.parse(body).records),
      status: res.statusCode,
      results: parsed.success ? parsed.data.results : null,
    });
    if (toLose > 0) {
      toLose--;
      throw new TypeError('Failed to fetch');
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      for (const one of [value ?? []].flat()) headers.append(name, String(one));
    }
    const noBody = [204, 205, 304].includes(res.statusCode);
    return new Response(noBody ? null : res.payload, { status: res.statusCode, headers });
  };
  return { fetchFn: fetchFn as typeof fetch, exchanges };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

async function storedRows(t: TestApp): Promise<StoredFeedback[]> {
  const rows: StoredFeedback[] = [];
  for await (const row of t.store.exportRecords()) rows.push(row);
  return rows;
}

const storedIds = async (t: TestApp) =>
  (await storedRows(t)).map((row) => (JSON.parse(row.recordJson) as { id: string }).id);

describe('flushOutbox against the real server', () => {
  let model: TestModel;
  let t: TestApp | null = null;
  beforeAll(async () => {
    model = await testModel();
  });
  beforeEach(() => {
    // Only Date: the database and the server keep their real timers.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.parse('2026-05-02T09:00:00Z'));
  });
  afterEach(async () => {
    vi.useRealTimers();
    await t?.close();
    t = null;
  });

  const start = async (feedback: Parameters<typeof buildTestApp>[1] = {}) => {
    t = await buildTestApp('sqlite', feedback);
    return t;
  };
  const valid = (overrides: Record<string, unknown> = {}) =>
    feedbackRecordSchema.parse(makeRecord(model, overrides));
  // A millisecond apart: records queued at the same instant go in id order.
  const queue = async (...records: FeedbackRecord[]) => {
    for (const one of records) {
      advance(1);
      await enqueue(one, null, Date.now());
    }
  };
  const advance = (ms: number) => vi.setSystemTime(Date.now() + ms);

  it('sends what waits in one batch; the server stores it and it leaves the outbox', async () => {
    const app = await start();
    const records = [valid(), valid({ verdict: 'correct', correctedLabel: undefined }), valid()];
    await queue(...records);
    const { fetchFn, exchanges } = fetchThrough(app.app);

    expect(await flushOutbox(fetchFn)).toEqual({ sent: 3, rejected: 0, retryLater: 0 });
    expect(exchanges.map((e) => [e.status, e.sentIds])).toEqual([[200, ids(records)]]);
    expect(await outboxCounts()).toEqual({ waiting: 0, rejected: 0, nextAttemptAt: null });
    expect(await storedIds(app)).toEqual(ids(records));

    expect(await flushOutbox(fetchFn)).toEqual({ sent: 0, rejected: 0, retryLater: 0 });
    expect(exchanges).toHaveLength(1);
  });

  it('sets aside a record the server rejects, with its code, and sends the others', async () => {
    const app = await start();
    const bad = valid({ correctedLabel: 'Passer domesticus (House Sparrow)x' });
    const goods = [valid(), valid()];
    await queue(goods[0]!, bad, goods[1]!);
    const { fetchFn, exchanges } = fetchThrough(app.app);

    expect(await flushOutbox(fetchFn)).toEqual({ sent: 2, rejected: 1, retryLater: 0 });
    expect(exchanges).toHaveLength(1);
    expect(await storedIds(app)).toEqual(ids(goods));
    expect(await setAsideRecords()).toEqual([
      { id: bad.id, record: bad, code: 'UNKNOWN_LABEL', detail: null, setAsideAt: Date.now() },
    ]);
    expect(await outboxCounts()).toEqual({ waiting: 0, rejected: 1, nextAttemptAt: null });

    advance(OUTBOX_MAX_DELAY_MS * 10);
    await flushOutbox(fetchFn);
    expect(exchanges).toHaveLength(1); // never retried
  });

  it("waits for a 429's Retry-After, then sends", async () => {
    // One request, then one more every 10 s.
    const app = await start({ feedback: { rateLimit: { burst: 1, perMinute: 6 } } });
    const { fetchFn, exchanges } = fetchThrough(app.app);
    await queue(valid());
    expect(await flushOutbox(fetchFn)).toEqual({ sent: 1, rejected: 0, retryLater: 0 });

    const later = [valid(), valid()];
    await queue(...later);
    const limitedAt = Date.now();
    expect(await flushOutbox(fetchFn)).toEqual({ sent: 0, rejected: 0, retryLater: 2 });
    expect(exchanges.map((e) => e.status)).toEqual([200, 429]);
    expect(await outboxCounts()).toEqual({
      waiting: 2,
      rejected: 0,
      nextAttemptAt: limitedAt + 10_000,
    });

    advance(9_999);
    await flushOutbox(fetchFn);
    expect(exchanges).toHaveLength(2); // not yet due: no request

    advance(1);
    expect(await flushOutbox(fetchFn)).toEqual({ sent: 2, rejected: 0, retryLater: 0 });
    expect(exchanges.map((e) => e.status)).toEqual([200, 429, 200]);
    expect(await app.store.count()).toBe(3);
  });

  it('never stores a record twice when the reply is lost after the server stored the batch', async () => {
    const app = await start();
    const records = [valid(), valid(), valid()];
    await queue(...records);
    const { fetchFn, exchanges } = fetchThrough(app.app, { loseReplies: 2 });

    expect(await flushOutbox(fetchFn)).toEqual({ sent: 0, rejected: 0, retryLater: 3 });
    expect(await app.store.count()).toBe(3); // stored, but the phone does not know
    expect((await outboxCounts()).waiting).toBe(3);

    advance(OUTBOX_MAX_DELAY_MS);
    expect(await flushOutbox(fetchFn)).toEqual({ sent: 0, rejected: 0, retryLater: 3 });
    advance(OUTBOX_MAX_DELAY_MS);
    expect(await flushOutbox(fetchFn)).toEqual({ sent: 3, rejected: 0, retryLater: 0 });

    expect(exchanges.map((e) => e.results?.map((r) => r.status))).toEqual([
      ['accepted', 'accepted', 'accepted'],
      ['duplicate', 'duplicate', 'duplicate'],
      ['duplicate', 'duplicate', 'duplicate'],
    ]);
    expect(await outboxCounts()).toEqual({ waiting: 0, rejected: 0, nextAttemptAt: null });
    expect((await storedIds(app)).sort()).toEqual(ids(records).sort());
    expect(await app.store.count()).toBe(3);
  });

  it('a verdict stored by the server whose reply was lost is not withdrawn by a change: the server never has both', async () => {
    const app = await start();
    const first = valid();
    advance(1);
    await enqueue(first, 'obs-1', Date.now());
    const { fetchFn, exchanges } = fetchThrough(app.app, { loseReplies: 1 });
    expect(await flushOutbox(fetchFn)).toEqual({ sent: 0, rejected: 0, retryLater: 1 });
    expect(await storedIds(app)).toEqual([first.id]); // stored, but the phone does not know

    advance(1);
    const change = valid({ verdict: 'not-an-animal', predicted: null, correctedLabel: undefined });
    expect(await enqueue(change, 'obs-1', Date.now())).toEqual({
      ok: true,
      value: 'after-earlier',
    });
    advance(OUTBOX_MAX_DELAY_MS);
    expect(await flushOutbox(fetchFn)).toEqual({ sent: 1, rejected: 0, retryLater: 0 });
    expect(exchanges.map((e) => e.sentIds)).toEqual([[first.id], [first.id]]);
    expect(await storedIds(app)).toEqual([first.id]);
    expect(await setAsideRecords()).toMatchObject([{ id: change.id, code: 'ALREADY_SENT' }]);
  });

  it('keeps the backoff of a refused record, and a Retry-After, when the network comes back', async () => {
    const app = await start();
    await queue(valid());
    let answers = 0;
    const refusing = (async () => {
      answers++;
      return new Response('too large', { status: 413 });
    }) as typeof fetch;
    expect(await flushOutbox(refusing)).toEqual({ sent: 0, rejected: 0, retryLater: 1 });
    for (let start = 0; start < 3; start++) await flushOutbox(refusing, { ignoreSchedule: true });
    expect(answers).toBe(1);

    advance(OUTBOX_MAX_DELAY_MS);
    const limited = (async () => {
      answers++;
      return new Response('slow down', { status: 429, headers: { 'retry-after': '600' } });
    }) as typeof fetch;
    expect(await flushOutbox(limited)).toEqual({ sent: 0, rejected: 0, retryLater: 1 });
    await flushOutbox(limited, { ignoreSchedule: true });
    expect(answers).toBe(2);

    // A wait for the network is still cut short.
    advance(600_000);
    const offline = (async () => {
      answers++;
      throw new TypeError('Failed to fetch');
    }) as typeof fetch;
    await flushOutbox(offline);
    const { fetchFn } = fetchThrough(app.app);
    expect(await flushOutbox(fetchFn, { ignoreSchedule: true })).toMatchObject({ sent: 1 });
  });

  it('splits a batch refused as a whole (413) and sends its records one by one', async () => {
    const records = [valid(), valid(), valid()];
    const oneRecordBytes = JSON.stringify({ records: [records[0]] }).length;
    // Room for one record, not for two: and not for a record carrying 2 KB more.
    const app = await start({ feedback: { bodyLimitBytes: oneRecordBytes + 300 } });
    const tooBig = valid({ photo: 'A'.repeat(2_400) });
    await queue(records[0]!, tooBig, records[1]!, records[2]!);
    const { fetchFn, exchanges } = fetchThrough(app.app);

    expect(await flushOutbox(fetchFn)).toEqual({ sent: 3, rejected: 0, retryLater: 1 });
    expect(exchanges.map((e) => [e.status, e.sentIds])).toEqual([
      [413, ids([records[0]!, tooBig, records[1]!, records[2]!])],
      [200, [records[0]!.id]],
      [413, [tooBig.id]],
      [200, [records[1]!.id]],
      [200, [records[2]!.id]],
    ]);
    expect(await storedIds(app)).toEqual(ids(records));
    // The refused one waits for another try, with backoff: a limit in between may be lifted.
    expect(await outboxCounts()).toMatchObject({ waiting: 1, rejected: 0 });

    // Tried OUTBOX_MAX_REFUSALS times in all, then set aside with the server's code.
    for (let tries = 1; tries < OUTBOX_MAX_REFUSALS; tries++) {
      await flushOutbox(fetchFn);
      expect(exchanges).toHaveLength(5 + tries - 1); // not due yet: nothing sent
      advance(OUTBOX_MAX_DELAY_MS);
      await flushOutbox(fetchFn);
      expect(exchanges).toHaveLength(5 + tries);
    }
    expect(exchanges.slice(5).every((e) => e.status === 413)).toBe(true);
    expect(await setAsideRecords()).toMatchObject([
      { id: tooBig.id, code: 'PAYLOAD_TOO_LARGE', detail: 'HTTP 413', record: tooBig },
    ]);
    expect(await outboxCounts()).toEqual({ waiting: 0, rejected: 1, nextAttemptAt: null });
    advance(OUTBOX_MAX_DELAY_MS * 10);
    await flushOutbox(fetchFn);
    expect(exchanges).toHaveLength(4 + OUTBOX_MAX_REFUSALS); // never again on its own
  });

  it('sends a set-aside record again when asked, and it reaches the server once', async () => {
    const records = [valid()];
    const oneRecordBytes = JSON.stringify({ records }).length;
    let bodyLimitBytes = oneRecordBytes - 1; // a proxy in between with a smaller limit
    const app = await start();
    const { fetchFn: throughApp, exchanges } = fetchThrough(app.app);
    const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) =>
      String(init?.body).length > bodyLimitBytes
        ? new Response('too large', { status: 413 })
        : throughApp(input, init)) as typeof fetch;
    await queue(records[0]!);
    for (let tries = 0; tries < OUTBOX_MAX_REFUSALS; tries++) {
      await flushOutbox(fetchFn);
      advance(OUTBOX_MAX_DELAY_MS);
    }
    expect(await setAsideRecords()).toMatchObject([
      { id: records[0]!.id, code: 'PAYLOAD_TOO_LARGE' },
    ]);

    bodyLimitBytes = Number.POSITIVE_INFINITY; // the proxy is fixed
    expect(await sendAgain(records[0]!.id, Date.now())).toEqual({ ok: true, value: undefined });
    expect(await outboxCounts()).toMatchObject({ waiting: 1, rejected: 0 });
    expect(await flushOutbox(fetchFn)).toEqual({ sent: 1, rejected: 0, retryLater: 0 });
    expect(exchanges.map((e) => e.status)).toEqual([200]);
    expect(await storedIds(app)).toEqual(ids(records));
  });

  it('keeps everything when the server is unreachable or failing, and sends it later', async () => {
    const app = await start();
    const records = [valid(), valid()];
    await queue(...records);
    const offline = (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch;
    expect(await flushOutbox(offline)).toEqual({ sent: 0, rejected: 0, retryLater: 2 });
    const failing = (async () => new Response('oops', { status: 503 })) as typeof fetch;
    advance(OUTBOX_MAX_DELAY_MS);
    expect(await flushOutbox(failing)).toEqual({ sent: 0, rejected: 0, retryLater: 2 });
    const garbled = (async () => new Response('<html>portal</html>')) as typeof fetch;
    advance(OUTBOX_MAX_DELAY_MS);
    expect(await flushOutbox(garbled)).toEqual({ sent: 0, rejected: 0, retryLater: 2 });
    expect(await app.store.count()).toBe(0);

    advance(OUTBOX_MAX_DELAY_MS);
    const { fetchFn } = fetchThrough(app.app);
    expect(await flushOutbox(fetchFn)).toEqual({ sent: 2, rejected: 0, retryLater: 0 });
    expect(await storedIds(app)).toEqual(ids(records));
  });
});

describe('queueing when the storage fails', () => {
  afterEach(() => vi.restoreAllMocks());

  it('comes back as a value with a code, and leaves the outbox as it was', async () => {
    await enqueue(record(1), 'obs-1', 1_000);
    const put = vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    });
    const replacement = record(2, { verdict: 'not-an-animal', predicted: null });
    const full = await enqueue(replacement, 'obs-1', 2_000);
    expect(full).toMatchObject({ ok: false, error: { code: 'STORAGE_FULL' } });
    expect(!full.ok && full.error.detail).toMatch(/QuotaExceededError/);
    // The older verdict is not withdrawn for a replacement that could not be kept.
    expect(ids(await dueRecords(10_000))).toEqual([uuid(1)]);

    put.mockImplementation(() => {
      throw new DOMException('Something else.', 'UnknownError');
    });
    expect(await enqueue(replacement, 'obs-1', 2_000)).toMatchObject({
      ok: false,
      error: { code: 'STORAGE_FAILED' },
    });

    put.mockRestore();
    expect(await enqueue(replacement, 'obs-1', 3_000)).toEqual({ ok: true, value: 'queued' });
    expect(ids(await dueRecords(10_000))).toEqual([uuid(2)]);
  });
});

/** A `fetch` whose answers the test gives, one request at a time. */
function heldFetch() {
  const requests: {
    ids: string[];
    signal: AbortSignal | undefined;
    answer: (response: Response | Error) => void;
  }[] = [];
  let announce: () => void = () => {};
  const fetchFn = ((_url: unknown, init?: RequestInit) =>
    new Promise<Response>((resolve, reject) => {
      requests.push({
        ids: ids(JSON.parse(String(init?.body)).records),
        signal: init?.signal ?? undefined,
        answer: (response) => (response instanceof Error ? reject(response) : resolve(response)),
      });
      announce();
    })) as typeof fetch;
  /** Resolves once `count` requests were made. */
  const made = (count: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (requests.length >= count) resolve();
      };
      announce = check;
      check();
    });
  return { fetchFn, requests, made };
}

const accepted = (...sent: string[]) =>
  Response.json({ results: sent.map((id) => ({ id, status: 'accepted' })) });

describe('the sender and the outbox lock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('gives up on a request that never ends, so the lock is released and later sends go', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    await enqueue(record(1), null, 0);
    const hung = heldFetch();
    const first = flushOutbox(hung.fetchFn);
    await hung.made(1);
    // A second run waits for the lock the hung one holds.
    let secondDone = false;
    const second = flushOutbox(hung.fetchFn).then((summary) => {
      secondDone = true;
      return summary;
    });

    await vi.advanceTimersByTimeAsync(OUTBOX_SEND_TIMEOUT_MS - 1);
    expect(secondDone).toBe(false);
    expect(hung.requests[0]!.signal?.aborted).toBe(false);

    await vi.advanceTimersByTimeAsync(1);
    expect(await first).toEqual({ sent: 0, rejected: 0, retryLater: 1 });
    expect(hung.requests[0]!.signal?.aborted).toBe(true);
    // The record was rescheduled, not lost; the second run found nothing due and ended.
    expect(await second).toEqual({ sent: 0, rejected: 0, retryLater: 0 });
    expect(secondDone).toBe(true);
    expect(await outboxCounts()).toMatchObject({ waiting: 1 });

    // And the next send goes through.
    const working = heldFetch();
    const third = flushOutbox(working.fetchFn, { ignoreSchedule: true });
    await working.made(1);
    working.requests[0]!.answer(accepted(uuid(1)));
    expect(await third).toEqual({ sent: 1, rejected: 0, retryLater: 0 });
  });

  it('sends the records of a batch that timed out one at a time, so a slow uplink still drains', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    await enqueue(record(1), null, 0);
    await enqueue(record(2), null, 0);
    const slow = heldFetch();
    const first = flushOutbox(slow.fetchFn);
    await slow.made(1);
    expect(slow.requests[0]!.ids).toEqual([uuid(1), uuid(2)]);
    await vi.advanceTimersByTimeAsync(OUTBOX_SEND_TIMEOUT_MS);
    expect(await first).toEqual({ sent: 0, rejected: 0, retryLater: 2 });

    const next = heldFetch();
    const second = flushOutbox(next.fetchFn, { ignoreSchedule: true });
    await next.made(1);
    expect(next.requests[0]!.ids).toEqual([uuid(1)]);
    next.requests[0]!.answer(accepted(uuid(1)));
    await next.made(2);
    expect(next.requests[1]!.ids).toEqual([uuid(2)]);
    next.requests[1]!.answer(accepted(uuid(2)));
    expect(await second).toEqual({ sent: 2, rejected: 0, retryLater: 0 });
  });

  it('keeps a verdict whose request failed queued, and holds its replacement until the server answers for it', async () => {
    await enqueue(record(1), 'obs-1', 0);
    const held = heldFetch();
    const sending = flushOutbox(held.fetchFn);
    await held.made(1);
    expect(held.requests[0]!.ids).toEqual([uuid(1)]);

    // The user changes their mind while record 1 is on the wire; the request then fails,
    // which says nothing about whether the server stored it.
    const replacement = record(2, { verdict: 'not-an-animal', predicted: null });
    const replacing = enqueue(replacement, 'obs-1', 1);
    held.requests[0]!.answer(new TypeError('Failed to fetch'));
    expect(await sending).toEqual({ sent: 0, rejected: 0, retryLater: 1 });
    expect(await replacing).toEqual({ ok: true, value: 'after-earlier' });
    expect(await outboxCounts()).toMatchObject({ waiting: 2, rejected: 0 });

    // Only record 1 goes again; the server had it, so the replacement is set aside.
    const later = heldFetch();
    const next = flushOutbox(later.fetchFn, { ignoreSchedule: true });
    await later.made(1);
    later.requests[0]!.answer(Response.json({ results: [{ id: uuid(1), status: 'duplicate' }] }));
    expect(await next).toEqual({ sent: 1, rejected: 0, retryLater: 0 });
    expect(later.requests.map((r) => r.ids)).toEqual([[uuid(1)]]);
    expect(await setAsideRecords()).toMatchObject([
      { id: uuid(2), code: 'ALREADY_SENT', record: replacement },
    ]);
    expect(await outboxCounts()).toMatchObject({ waiting: 0, nextAttemptAt: null });
  });

  it('sends the held replacement when the server refuses the verdict it replaces', async () => {
    await enqueue(record(1), 'obs-1', 0);
    const offline = (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch;
    await flushOutbox(offline);
    expect(await enqueue(record(2), 'obs-1', 1)).toEqual({ ok: true, value: 'after-earlier' });
    // A held replacement has no time of its own: nothing to arm a retry timer for but record 1.
    expect((await outboxCounts()).nextAttemptAt).toBe(
      (await dueRecords(Number.POSITIVE_INFINITY)).find((r) => r.id === uuid(1))?.nextAttemptAt,
    );

    const held = heldFetch();
    const next = flushOutbox(held.fetchFn, { ignoreSchedule: true });
    await held.made(1);
    held.requests[0]!.answer(
      Response.json(
        { results: [{ id: uuid(1), status: 'rejected', code: 'UNKNOWN_LABEL' }] },
        { status: 422 },
      ),
    );
    await held.made(2);
    held.requests[1]!.answer(accepted(uuid(2)));
    expect(await next).toEqual({ sent: 1, rejected: 1, retryLater: 0 });
    expect(held.requests.map((r) => r.ids)).toEqual([[uuid(1)], [uuid(2)]]);
    // The refused verdict was replaced: it is not offered to be sent again.
    expect(await outboxCounts()).toEqual({ waiting: 0, rejected: 0, nextAttemptAt: null });
  });

  it('holds back the change of a verdict delivered long before, as of one delivered during the change', async () => {
    await enqueue(record(1), 'obs-1', 0);
    const held = heldFetch();
    const sending = flushOutbox(held.fetchFn);
    await held.made(1);
    held.requests[0]!.answer(accepted(uuid(1)));
    expect(await sending).toMatchObject({ sent: 1 });

    expect(await enqueue(record(2), 'obs-1', 5)).toEqual({ ok: true, value: 'held-back' });
    expect(await setAsideRecords()).toMatchObject([{ id: uuid(2), code: 'ALREADY_SENT' }]);
    expect(await outboxCounts()).toMatchObject({ waiting: 0 });
    // Another observation is not affected.
    expect(await enqueue(record(3), 'obs-2', 6)).toEqual({ ok: true, value: 'queued' });
  });

  it('two quick changes withdraw each other, and none is taken for delivered', async () => {
    // Record 0 waits for later, so that a send of another record can hold the lock.
    await enqueue(record(10), 'obs-1', Date.now() + 3_600_000);
    await enqueue(record(9), null, 0);
    const held = heldFetch();
    const sending = flushOutbox(held.fetchFn);
    await held.made(1);
    expect(held.requests[0]!.ids).toEqual([uuid(9)]);

    const first = enqueue(record(11), 'obs-1', 1);
    const second = enqueue(record(12, { verdict: 'not-an-animal', predicted: null }), 'obs-1', 2);
    held.requests[0]!.answer(accepted(uuid(9)));
    expect(await first).toEqual({ ok: true, value: 'queued' });
    expect(await second).toEqual({ ok: true, value: 'queued' });
    // The same run goes on with what is due: the last verdict only.
    await held.made(2);
    held.requests[1]!.answer(accepted(uuid(12)));
    expect(await sending).toEqual({ sent: 2, rejected: 0, retryLater: 0 });
    expect(held.requests.map((r) => r.ids)).toEqual([[uuid(9)], [uuid(12)]]);
    expect(await outboxCounts()).toEqual({ waiting: 0, rejected: 0, nextAttemptAt: null });
  });

  it('of a verdict delivered while being replaced and its replacement, only one is sent', async () => {
    await enqueue(record(1), 'obs-1', 0);
    const held = heldFetch();
    const sending = flushOutbox(held.fetchFn);
    await held.made(1);
    const replacement = record(2, { verdict: 'not-an-animal', predicted: null });
    const replacing = enqueue(replacement, 'obs-1', 1);

    // Record 1 reaches the server before the replacement could withdraw it.
    held.requests[0]!.answer(accepted(uuid(1)));
    expect(await sending).toEqual({ sent: 1, rejected: 0, retryLater: 0 });
    expect(await replacing).toEqual({ ok: true, value: 'held-back' });

    // The replacement is kept, with the reason, and not sent on its own.
    const later = heldFetch();
    expect(await flushOutbox(later.fetchFn, { ignoreSchedule: true })).toEqual({
      sent: 0,
      rejected: 0,
      retryLater: 0,
    });
    expect(later.requests).toEqual([]);
    expect(await setAsideRecords()).toMatchObject([
      { id: uuid(2), code: 'ALREADY_SENT', record: replacement },
    ]);

    // The user may still send it.
    expect(await sendAgain(uuid(2), 2)).toEqual({ ok: true, value: undefined });
    const asked = flushOutbox(later.fetchFn);
    await later.made(1);
    later.requests[0]!.answer(accepted(uuid(2)));
    expect(await asked).toEqual({ sent: 1, rejected: 0, retryLater: 0 });
  });

  it('a newer verdict on an observation withdraws its set-aside one', async () => {
    await enqueue(record(1), 'obs-1', 0);
    await setAside([{ id: uuid(1), code: 'UNKNOWN_LABEL' }], 1);
    expect(ids(await setAsideRecords())).toEqual([uuid(1)]);
    expect(await enqueue(record(2), 'obs-1', 2)).toEqual({ ok: true, value: 'queued' });
    expect(await setAsideRecords()).toEqual([]);
    expect(ids(await dueRecords(10))).toEqual([uuid(2)]);
  });

  it('keeps a set-aside record that fails the schema aside when sent again', async () => {
    await enqueue(record(1), null, 0);
    const raw = await rawDb();
    await raw.put('waiting', { ...(await raw.get('waiting', uuid(1))), record: { id: uuid(1) } });
    raw.close();
    await dueRecords(10);
    const result = await sendAgain(uuid(1), 20);
    expect(result).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(await outboxCounts()).toMatchObject({ waiting: 0, rejected: 1 });
  });
});

/**
 * Web Locks as the browser gives them: one holder per name at a time, across every
 * context. Node has none, so without this only the in-context fallback queue is tested.
 */
function fakeLocks() {
  const tails = new Map<string, Promise<unknown>>();
  const names: string[] = [];
  let holders = 0;
  let mostHolders = 0;
  const locks = {
    request<R>(name: string, callback: () => Promise<R>): Promise<R> {
      names.push(name);
      const run = (tails.get(name) ?? Promise.resolve()).then(async () => {
        mostHolders = Math.max(mostHolders, ++holders);
        try {
          return await callback();
        } finally {
          holders--;
        }
      });
      tails.set(
        name,
        run.catch(() => {}),
      );
      return run;
    },
  };
  return { locks, names, mostHolders: () => mostHolders };
}

describe('the outbox lock with Web Locks', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  it('keeps the sends of the page and of the service worker apart', async () => {
    const fake = fakeLocks();
    vi.stubGlobal('navigator', { locks: fake.locks });
    // Two copies of the modules, each with its own fallback queue: as the page and the
    // service worker, only the Web Lock can keep them apart.
    vi.resetModules();
    const page = await import('./sender');
    vi.resetModules();
    const worker = await import('./sender');
    const workerDb = await import('./outbox-db');
    await workerDb.enqueue(record(1), null, 0);

    const held = heldFetch();
    const fromPage = page.flushOutbox(held.fetchFn);
    await held.made(1);
    const fromWorker = worker.flushOutbox(held.fetchFn, { ignoreSchedule: true });
    // The worker's replacement of a verdict waits as well.
    const changed = workerDb.enqueue(record(2), null, 1);
    held.requests[0]!.answer(accepted(uuid(1)));
    await held.made(2);
    expect(held.requests.map((r) => r.ids)).toEqual([[uuid(1)], [uuid(2)]]);
    held.requests[1]!.answer(accepted(uuid(2)));

    expect(await fromPage).toEqual({ sent: 2, rejected: 0, retryLater: 0 });
    expect(await fromWorker).toEqual({ sent: 0, rejected: 0, retryLater: 0 });
    expect(await changed).toEqual({ ok: true, value: 'queued' });
    expect(fake.mostHolders()).toBe(1);
    expect(new Set(fake.names)).toEqual(new Set(['fieldid-outbox']));
  });
});
