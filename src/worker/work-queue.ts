import { fail, ok, type ErrorCode, type Result } from '../core/errors';
import type { Cascade } from '../model/cascade';
import type { Engine, PreparedPhoto } from '../model/engine';
import type { Classification, ClassifyItem, ImageSource, WorkerEvent } from './api/protocol';
import type { DecodedPhoto } from './decode-image';

/**
 * The worker's order of work. Model work (load, backend switch, benchmark) and photo
 * batches run strictly one at a time, in arrival order: a photo never runs on a model
 * that was replaced after it was sent, nor before the model it was sent for. Photos wait
 * in micro-batches of up to `microBatch`; a cancelled request answers nothing more, even
 * when it is cancelled while its photos are decoding; a job that fails fails alone.
 */

export interface WorkQueueDeps {
  engine: Pick<Engine, 'classify' | 'inputSize'> & Partial<Pick<Cascade, 'classifyAnimal'>>;
  decode(source: ImageSource, inputSize: number): Promise<Result<DecodedPhoto>>;
  post(event: WorkerEvent): void;
  microBatch: number;
  now?(): number;
  /** For a job that threw and has nobody to answer. */
  logFailure?(error: unknown): void;
}

export interface WorkQueue {
  /** Runs `job` after everything queued so far; a throw answers `requestId` with `onThrow`. */
  modelWork(requestId: number, onThrow: ErrorCode, job: () => Promise<void>): void;
  classify(requestId: number, items: readonly ClassifyItem[], topK: number): void;
  /**
   * Several photos of one animal: decoded, then classified together and one by one, in
   * one job after everything queued so far; the reply holds both.
   */
  classifyAnimal(requestId: number, items: readonly ClassifyItem[], topK: number): void;
  /** Drops what is still queued for `requestId`; nothing more is posted for it. */
  cancel(requestId: number): void;
  reply(requestId: number, result: Result<unknown>): void;
}

interface PendingItem {
  requestId: number;
  item: ClassifyItem;
  topK: number;
  /** Photos only run in the drain of their epoch, so never before earlier model work. */
  epoch: number;
  answered: boolean;
}

function closeSource(item: ClassifyItem) {
  if (item.source.kind === 'bitmap') item.source.bitmap.close();
}

export function createWorkQueue(deps: WorkQueueDeps): WorkQueue {
  const { engine, post } = deps;
  const now = deps.now ?? (() => performance.now());
  const logFailure =
    deps.logFailure ?? ((error: unknown) => console.error('inference worker: job failed', error));
  const pending: PendingItem[] = [];
  const remainingPerRequest = new Map<number, number>();
  let serial: Promise<void> = Promise.resolve();
  /** Bumped whenever model work is queued. */
  let epoch = 0;
  /** The epoch of the drain that is queued or running, if any. */
  let drainEpoch: number | null = null;

  function reply(requestId: number, result: Result<unknown>) {
    post({ type: 'reply', requestId, result });
  }

  /** The chain always resolves, so the next job still runs after one that throws. */
  function exclusive(job: () => Promise<void>, onError: (error: unknown) => void = logFailure) {
    serial = serial.then(job).catch(onError).catch(logFailure);
  }

  /** Answers one photo once, unless its request was cancelled (the bridge settled it). */
  function finishItem(p: PendingItem, result: Result<Classification>) {
    if (p.answered) return;
    p.answered = true;
    const left = remainingPerRequest.get(p.requestId);
    if (left === undefined) return;
    post({ type: 'item', requestId: p.requestId, itemId: p.item.itemId, result });
    if (left > 1) {
      remainingPerRequest.set(p.requestId, left - 1);
      return;
    }
    remainingPerRequest.delete(p.requestId);
    reply(p.requestId, ok({ completed: true }));
  }

  async function runBatch(batch: PendingItem[], size: number) {
    const ready: { p: PendingItem; photo: PreparedPhoto; thumbnail: Promise<Blob | null> }[] = [];
    for (const p of batch) {
      if (!remainingPerRequest.has(p.requestId)) {
        closeSource(p.item); // cancelled while queued
        continue;
      }
      const started = now();
      let decoded: Result<DecodedPhoto>;
      try {
        decoded = await deps.decode(p.item.source, size);
      } catch (error) {
        closeSource(p.item);
        decoded = fail('DECODE_FAILED', String(error));
      }
      if (decoded.ok) {
        const { thumbnail, ...photo } = decoded.value;
        ready.push({ p, photo: { ...photo, decodeMs: now() - started }, thumbnail });
      } else finishItem(p, decoded);
    }
    // Requests cancelled while their photos were decoding get no inference.
    const live = ready.filter((r) => remainingPerRequest.has(r.p.requestId));
    if (live.length === 0) return;
    const k = Math.max(...live.map((r) => r.p.topK));
    const results = await engine.classify(
      live.map((r) => r.photo),
      k,
    );
    for (const [i, { p, thumbnail }] of live.entries()) {
      const result = results.ok ? results.value[i] : undefined;
      if (!results.ok) finishItem(p, results);
      else if (result === undefined) finishItem(p, fail('INFERENCE_FAILED'));
      else finishItem(p, ok({ ...result, thumbnail: await thumbnail }));
    }
  }

  /** Classifies the queued photos of `ownEpoch`, including any that arrive while it runs. */
  async function drain(ownEpoch: number) {
    while (pending[0]?.epoch === ownEpoch) {
      const batch: PendingItem[] = [];
      while (batch.length < deps.microBatch && pending[0]?.epoch === ownEpoch) {
        batch.push(pending.shift()!);
      }
      try {
        const size = engine.inputSize();
        if (size === null) {
          for (const p of batch) {
            closeSource(p.item);
            finishItem(p, fail('MODEL_LOAD_FAILED', 'no model loaded'));
          }
        } else {
          await runBatch(batch, size);
        }
      } catch (error) {
        // One bad photo or an engine fault fails this batch, never the queue.
        for (const p of batch) {
          closeSource(p.item);
          finishItem(p, fail('INFERENCE_FAILED', String(error)));
        }
      }
    }
  }

  function scheduleDrain() {
    if (drainEpoch === epoch) return; // the queued or running drain will take these photos
    const ownEpoch = epoch;
    drainEpoch = ownEpoch;
    exclusive(async () => {
      try {
        await drain(ownEpoch);
      } finally {
        if (drainEpoch === ownEpoch) drainEpoch = null;
      }
    });
  }

  return {
    modelWork(requestId, onThrow, job) {
      epoch++;
      exclusive(job, (error) => reply(requestId, fail(onThrow, String(error))));
    },

    classify(requestId, items, topK) {
      if (items.length === 0) {
        reply(requestId, ok({ completed: true }));
        return;
      }
      remainingPerRequest.set(requestId, items.length);
      for (const item of items) pending.push({ requestId, item, topK, epoch, answered: false });
      scheduleDrain();
    },

    classifyAnimal(requestId, items, topK) {
      epoch++;
      exclusive(
        async () => {
          const size = engine.inputSize();
          if (size === null || engine.classifyAnimal === undefined) {
            items.forEach(closeSource);
            reply(requestId, fail('MODEL_LOAD_FAILED', 'no model loaded'));
            return;
          }
          const photos: PreparedPhoto[] = [];
          const thumbnails: Promise<Blob | null>[] = [];
          for (const [i, item] of items.entries()) {
            const started = now();
            const decoded = await deps.decode(item.source, size);
            if (!decoded.ok) {
              items.slice(i + 1).forEach(closeSource);
              // One photo that cannot be read fails the animal: the user chose them together.
              reply(requestId, fail(decoded.error.code, `${item.name}: ${decoded.error.message}`));
              return;
            }
            const { thumbnail, ...photo } = decoded.value;
            photos.push({ ...photo, decodeMs: now() - started });
            thumbnails.push(thumbnail);
          }
          const result = await engine.classifyAnimal(photos, topK);
          if (!result.ok) {
            reply(requestId, result);
            return;
          }
          const shown = await Promise.all(thumbnails);
          reply(
            requestId,
            ok({
              combined: { ...result.value.combined, thumbnail: shown[0] ?? null },
              photos: result.value.photos.map((one, i) => ({
                ...one,
                thumbnail: shown[i] ?? null,
              })),
            }),
          );
        },
        (error) => reply(requestId, fail('INFERENCE_FAILED', String(error))),
      );
    },

    cancel(requestId) {
      remainingPerRequest.delete(requestId);
      for (let i = pending.length - 1; i >= 0; i--) {
        if (pending[i]!.requestId === requestId) {
          closeSource(pending[i]!.item);
          pending.splice(i, 1);
        }
      }
    },

    reply,
  };
}
