import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Answer } from '../../core/answer';
import { dueRecords, outboxSnapshot } from '../../outbox/outbox-db';
import { useFeedbackStore } from './feedback-store';
import { retryQueueing, sendNow, submitVerdict, type VerdictInput } from './feedback-service';
import { OUTBOX_BASE_DELAY_MS } from '../../core/outbox-policy';
import { shareablePhoto } from './photo-share';

declare global {
  // Defined by the build for the app; this test's program does not include that declaration.
  const __APP_VERSION__: string;
}

// The history is another feature's: only that the verdict reaches it is checked here.
const historyVerdicts = vi.hoisted(() => [] as [string, unknown][]);
vi.mock('../history/history-store', () => ({
  setObservationVerdict: async (id: string, verdict: unknown) => {
    historyVerdicts.push([id, verdict]);
    return true;
  },
}));
vi.mock('../history/recording', () => ({ flushRecording: async () => {} }));
// Only where a test says so; otherwise the real sender (offline, it is not reached).
const flush = vi.hoisted(() => ({ failWith: null as unknown, calls: 0 }));
vi.mock('../../outbox/sender', async (original) => {
  const real = await original<typeof import('../../outbox/sender')>();
  return {
    ...real,
    flushOutbox: async (...args: Parameters<typeof real.flushOutbox>) => {
      flush.calls++;
      if (flush.failWith !== null) throw flush.failWith;
      return real.flushOutbox(...args);
    },
  };
});

const ROBIN = 'Turdus migratorius (American Robin)';
const SPARROW = 'Passer domesticus (House Sparrow)';
const answer: Answer = {
  kind: 'animal',
  top: [
    { index: 0, label: ROBIN, name: 'American Robin', scientificName: null, probability: 0.8 },
    { index: 1, label: SPARROW, name: 'House Sparrow', scientificName: null, probability: 0.1 },
  ],
};
const input = (overrides: Partial<VerdictInput> = {}): VerdictInput => ({
  observationId: 'obs-1',
  model: { id: 'inat-birds-mobilenet-v2', version: 'abc123def0' },
  answer,
  choice: { kind: 'corrected', correctedLabel: SPARROW },
  photo: null,
  ...overrides,
});

beforeEach(() => {
  // Offline: nothing is sent, so what is queued stays to be looked at.
  vi.stubGlobal('navigator', { onLine: false });
  vi.stubGlobal('__APP_VERSION__', '0.1.0');
  historyVerdicts.length = 0;
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('submitVerdict', () => {
  it('shows a verdict the outbox could not keep, and queues the same record on retry', async () => {
    const put = vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    });
    const submission = await submitVerdict(input());
    expect(submission).toMatchObject({ kind: 'not-queued', error: { code: 'STORAGE_FULL' } });
    const recordId = submission.kind === 'not-queued' ? submission.recordId : '';
    expect(useFeedbackStore.getState().notQueued).toMatchObject([
      { recordId, observationId: 'obs-1', error: { code: 'STORAGE_FULL' } },
    ]);
    expect(historyVerdicts).toEqual([]); // the history says nothing the outbox does not hold

    put.mockRestore();
    const retried = await retryQueueing(recordId);
    expect(retried).toMatchObject({
      kind: 'queued',
      verdict: { kind: 'corrected', correctedLabel: SPARROW },
      notices: [],
    });
    expect(useFeedbackStore.getState().notQueued).toEqual([]);
    expect((await dueRecords(Number.POSITIVE_INFINITY)).map((row) => row.id)).toEqual([recordId]);
    expect(historyVerdicts).toMatchObject([['obs-1', { kind: 'corrected' }]]);
    expect(useFeedbackStore.getState().waiting).toBe(1);
    expect(await retryQueueing(recordId)).toBeNull(); // nothing left to retry
  });

  it('says so when an opted-in photo cannot be prepared, and sends the correction without it', async () => {
    vi.stubGlobal('createImageBitmap', async () => {
      throw new DOMException('The source image cannot be decoded.', 'InvalidStateError');
    });
    const submission = await submitVerdict(
      input({ observationId: 'obs-2', photo: new Blob(['not a photo']) }),
    );
    expect(submission).toMatchObject({
      kind: 'queued',
      notices: [{ code: 'PHOTO_NOT_SHARED' }],
    });
    const queued = (await dueRecords(Number.POSITIVE_INFINITY)).find(
      (row) => row.observationId === 'obs-2',
    );
    expect(queued?.record).toMatchObject({ verdict: 'corrected', correctedLabel: SPARROW });
    expect(queued && 'photo' in queued.record).toBe(false);
  });

  it('takes picking the predicted species as a confirmation, in the history too', async () => {
    const submission = await submitVerdict(
      input({ observationId: 'obs-3', choice: { kind: 'corrected', correctedLabel: ROBIN } }),
    );
    expect(submission).toMatchObject({ kind: 'queued', verdict: { kind: 'correct' } });
    expect(historyVerdicts).toMatchObject([['obs-3', { kind: 'correct' }]]);
    expect((await outboxSnapshot()).waiting).toBeGreaterThan(0);
  });

  it('refuses a record the server would refuse, with nothing to retry', async () => {
    const submission = await submitVerdict(
      input({ model: { id: 'Not A Model', version: 'x' }, observationId: 'obs-4' }),
    );
    expect(submission).toMatchObject({ kind: 'invalid', error: { code: 'VALIDATION_FAILED' } });
  });
});

describe('sendNow', () => {
  afterEach(() => {
    vi.useRealTimers();
    flush.failWith = null;
    flush.calls = 0;
  });

  it('shows a send that failed, and tries again after a backoff', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    vi.stubGlobal('navigator', { onLine: true });
    vi.stubGlobal('fetch', async () => Response.json({ results: [] }));
    flush.failWith = new DOMException('The database connection is closing.', 'InvalidStateError');
    await expect(sendNow()).resolves.toBeUndefined();
    expect(useFeedbackStore.getState().flushError).toMatchObject({ code: 'OUTBOX_FAILED' });
    expect(flush.calls).toBe(1);

    flush.failWith = null;
    await vi.advanceTimersByTimeAsync(OUTBOX_BASE_DELAY_MS);
    expect(flush.calls).toBe(2);
    // The database keeps its real timers: wait for the retry to end, not for a time.
    await vi.waitFor(() => expect(useFeedbackStore.getState().flushError).toBeNull());
  });
});

describe('a verdict being queued', () => {
  it('is known to the store until it is queued, so a second one waits', async () => {
    const submitting = submitVerdict(input({ observationId: 'obs-5' }));
    expect(useFeedbackStore.getState().submitting).toEqual(['obs-5']);
    expect(await submitting).toMatchObject({ kind: 'queued' });
    expect(useFeedbackStore.getState().submitting).toEqual([]);
  });
});

describe('shareablePhoto', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('gives a reason, with a code, when the photo cannot be decoded', async () => {
    vi.stubGlobal('createImageBitmap', async () => {
      throw new DOMException('The source image cannot be decoded.', 'InvalidStateError');
    });
    expect(await shareablePhoto(new Blob(['x']))).toMatchObject({
      ok: false,
      error: { code: 'DECODE_FAILED' },
    });
  });
});
