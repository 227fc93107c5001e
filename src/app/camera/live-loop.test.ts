import { describe, expect, it } from 'vitest';
import { fail, ok, type Result } from '../../core/errors';
import type { Classification, ImageSource, ItemResult } from '../../worker/api/protocol';
import { createLiveLoop, LIVE_FRAME_INTERVAL_MS, type LiveLoopDeps } from './live-loop';

/** Real promises settle between steps; only the loop's own timers run on this clock. */
function fakeClock() {
  let time = 0;
  let timers: { at: number; run: () => void }[] = [];
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return {
    now: () => time,
    setTimer(run: () => void, ms: number) {
      const timer = { at: time + ms, run };
      timers.push(timer);
      return timer;
    },
    clearTimer(timer: unknown) {
      timers = timers.filter((t) => t !== timer);
    },
    pending: () => timers.length,
    async advance(ms: number) {
      const end = time + ms;
      await settle();
      for (;;) {
        const due = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (due === undefined) break;
        timers = timers.filter((t) => t !== due);
        time = due.at;
        due.run();
        await settle();
      }
      time = end;
    },
  };
}

interface Frame {
  n: number;
  released: boolean;
}

/** A camera whose frames are numbered, and a worker whose answers the test gives by hand. */
function harness(options: { visible?: () => boolean; ready?: () => boolean } = {}) {
  const clock = fakeClock();
  let grabbed = 0;
  const closed: number[] = [];
  const calls: { n: number; at: number; answer(result?: ItemResult): void }[] = [];
  const answers: { n: number; result: ItemResult }[] = [];
  const frames: Frame[] = [];
  const deps: LiveLoopDeps<Frame> = {
    async grab() {
      if (options.ready && !options.ready()) return null;
      const n = ++grabbed;
      const frame = { n, released: false };
      frames.push(frame);
      const bitmap = { close: () => closed.push(n), n } as unknown as ImageBitmap;
      return { source: { kind: 'bitmap', bitmap }, kept: frame };
    },
    identify(source: ImageSource) {
      const n = (source as unknown as { bitmap: { n: number } }).bitmap.n;
      return new Promise<ItemResult>((resolve) =>
        calls.push({
          n,
          at: clock.now(),
          answer: (result = ok({ frame: n } as unknown as Classification)) => resolve(result),
        }),
      );
    },
    onAnswer: (kept, result) => answers.push({ n: kept.n, result }),
    release: (kept) => (kept.released = true),
    isVisible: options.visible ?? (() => true),
    now: clock.now,
    setTimer: clock.setTimer,
    clearTimer: clock.clearTimer,
  };
  const inFlight = () => calls.length - answered.size;
  const answered = new Set<number>();
  const answer = (index: number, result?: ItemResult) => {
    answered.add(index);
    calls[index]!.answer(result);
  };
  return { clock, deps, calls, answers, frames, closed, inFlight, answer };
}

describe('the live loop', () => {
  it('sends the next frame only once the last one is answered', async () => {
    const h = harness();
    const loop = createLiveLoop(h.deps);
    loop.start();
    await h.clock.advance(10 * LIVE_FRAME_INTERVAL_MS);
    expect(h.calls).toHaveLength(1);
    expect(h.inFlight()).toBe(1);
    h.answer(0);
    await h.clock.advance(0);
    expect(h.answers.map((a) => a.n)).toEqual([1]);
    // The answer came long after the interval: the next frame goes at once.
    expect(h.calls).toHaveLength(2);
    expect(h.calls[1]!.at).toBe(10 * LIVE_FRAME_INTERVAL_MS);
    expect(h.inFlight()).toBe(1);
  });

  it('keeps at least the stated interval between two frames', async () => {
    const h = harness();
    const loop = createLiveLoop(h.deps);
    loop.start();
    for (let i = 0; i < 6; i++) {
      await h.clock.advance(100);
      h.answer(i);
      await h.clock.advance(LIVE_FRAME_INTERVAL_MS);
    }
    const starts = h.calls.map((c) => c.at);
    expect(starts.length).toBeGreaterThan(3);
    for (let i = 1; i < starts.length; i++) {
      expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(LIVE_FRAME_INTERVAL_MS);
    }
    expect(h.answers.map((a) => a.n)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('grabs nothing while the page is hidden, and goes on when it is shown', async () => {
    let visible = false;
    const h = harness({ visible: () => visible });
    createLiveLoop(h.deps).start();
    await h.clock.advance(5 * LIVE_FRAME_INTERVAL_MS);
    expect(h.frames).toHaveLength(0);
    visible = true;
    await h.clock.advance(LIVE_FRAME_INTERVAL_MS);
    expect(h.calls).toHaveLength(1);
  });

  it('tries again an interval later when the video has no frame yet', async () => {
    let ready = false;
    const h = harness({ ready: () => ready });
    createLiveLoop(h.deps).start();
    await h.clock.advance(3 * LIVE_FRAME_INTERVAL_MS);
    expect(h.calls).toHaveLength(0);
    ready = true;
    await h.clock.advance(LIVE_FRAME_INTERVAL_MS);
    expect(h.calls).toHaveLength(1);
  });

  it('after stop, drops the answer in flight and grabs no more frames', async () => {
    const h = harness();
    const loop = createLiveLoop(h.deps);
    loop.start();
    await h.clock.advance(0);
    loop.stop();
    h.answer(0);
    await h.clock.advance(10 * LIVE_FRAME_INTERVAL_MS);
    expect(h.answers).toEqual([]);
    expect(h.frames[0]!.released).toBe(true);
    expect(h.calls).toHaveLength(1);
    expect(h.clock.pending()).toBe(0);
  });

  it('started again while a frame is in flight, still sends one at a time', async () => {
    const h = harness();
    const loop = createLiveLoop(h.deps);
    loop.start();
    await h.clock.advance(0);
    loop.stop();
    loop.start();
    await h.clock.advance(5 * LIVE_FRAME_INTERVAL_MS);
    expect(h.calls).toHaveLength(1);
    h.answer(0);
    await h.clock.advance(0);
    // The old frame's answer is dropped; the new run goes on with a fresh frame.
    expect(h.answers).toEqual([]);
    expect(h.calls).toHaveLength(2);
    h.answer(1);
    await h.clock.advance(0);
    expect(h.answers.map((a) => a.n)).toEqual([2]);
  });

  it('drops the answer of a frame grabbed before discardInFlight, not the next one', async () => {
    const h = harness();
    const loop = createLiveLoop(h.deps);
    loop.start();
    await h.clock.advance(0);
    loop.discardInFlight();
    h.answer(0);
    await h.clock.advance(LIVE_FRAME_INTERVAL_MS);
    expect(h.answers).toEqual([]);
    expect(h.frames[0]!.released).toBe(true);
    h.answer(1);
    await h.clock.advance(0);
    expect(h.answers.map((a) => a.n)).toEqual([2]);
  });

  it('passes a failure on as the answer and keeps going', async () => {
    const h = harness();
    const loop = createLiveLoop({
      ...h.deps,
      identify: (source, name) =>
        h.calls.length === 0
          ? (h.calls.push({ n: 1, at: 0, answer: () => {} }), Promise.reject(new Error('gone')))
          : h.deps.identify(source, name),
    });
    loop.start();
    await h.clock.advance(LIVE_FRAME_INTERVAL_MS);
    const first = h.answers[0]?.result as Result<unknown>;
    expect(first).toEqual(fail('INFERENCE_FAILED', 'Error: gone'));
    expect(h.calls).toHaveLength(2);
  });

  it('closes a frame grabbed after stop without sending it', async () => {
    const h = harness();
    let release: () => void = () => {};
    const loop = createLiveLoop({
      ...h.deps,
      grab: () =>
        new Promise<Awaited<ReturnType<typeof h.deps.grab>>>((resolve) => {
          release = () => void h.deps.grab().then(resolve);
        }),
    });
    loop.start();
    await h.clock.advance(0);
    loop.stop();
    release();
    await h.clock.advance(LIVE_FRAME_INTERVAL_MS);
    expect(h.calls).toHaveLength(0);
    expect(h.closed).toEqual([1]);
    expect(h.frames[0]!.released).toBe(true);
  });
});
