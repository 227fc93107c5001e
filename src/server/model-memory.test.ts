import { describe, expect, it } from 'vitest';
import type { ChannelManifest } from '../core/model-channels';
import type { FeedbackStore, ServedModel } from './feedback-store';
import { createModelMemory, servedModels, type MemorySource } from './model-memory';

const NOW = { id: 'birds', version: 'v2' };
const CANDIDATE = { id: 'birds', version: 'v3' };
/** A source that lists NOW (stable) and CANDIDATE, and also knows an earlier registered v1. */
function fakeSource() {
  const known: Record<string, string[]> = {
    'birds@v1': ['registered (R)'],
    'birds@v2': ['b (B)', 'a (A)'],
    'birds@v3': ['c (C)', 'b (B)'],
  };
  const state = { asked: 0 };
  const source: MemorySource = {
    manifest: () =>
      ({
        models: { birds: { stable: { ...NOW }, candidate: { ...CANDIDATE } } },
      }) as unknown as ChannelManifest,
    labels: async (id, version) => {
      state.asked++;
      const lines = known[`${id}@${version}`];
      return lines === undefined ? null : new Set(lines);
    },
  };
  return { source, state };
}
const { source } = fakeSource();

/** Just the two store methods the memory uses, counting the lookups. */
function fakeStore(remembered: ServedModel[] = []) {
  const rows = new Map(remembered.map((m) => [`${m.id}@${m.version}`, [...m.labels]]));
  const state = { lookups: 0, failing: false };
  const store = {
    async rememberModels(models: readonly ServedModel[]) {
      for (const m of models) {
        const key = `${m.id}@${m.version}`;
        if (!rows.has(key)) rows.set(key, [...m.labels]);
      }
    },
    async servedModelLabels(id: string, version: string) {
      state.lookups++;
      if (state.failing) throw new Error('database down');
      return rows.get(`${id}@${version}`) ?? null;
    },
  } as Pick<FeedbackStore, 'rememberModels' | 'servedModelLabels'> as FeedbackStore;
  return { store, rows, state };
}

describe('the model memory', () => {
  it('lists what is served now, stable and candidate, with its label lines in order', async () => {
    expect(await servedModels(source)).toEqual([
      { ...NOW, labels: ['b (B)', 'a (A)'] },
      { ...CANDIDATE, labels: ['c (C)', 'b (B)'] },
    ]);
  });

  it('remembers what is served now', async () => {
    const { store, rows } = fakeStore();
    await createModelMemory(source, store).rememberServed();
    expect(rows.get('birds@v2')).toEqual(['b (B)', 'a (A)']);
    expect(rows.get('birds@v3')).toEqual(['c (C)', 'b (B)']);
  });

  it('answers for any version the source knows without asking the database, once', async () => {
    const { store, state } = fakeStore();
    const counted = fakeSource();
    const memory = createModelMemory(counted.source, store);
    const index = await memory.indexFor([NOW, NOW, CANDIDATE, { id: 'birds', version: 'v1' }]);
    expect(index.labels(NOW.id, NOW.version)).toEqual(new Set(['b (B)', 'a (A)']));
    expect(index.labels(CANDIDATE.id, CANDIDATE.version)).toEqual(new Set(['c (C)', 'b (B)']));
    expect(index.labels('birds', 'v1')).toEqual(new Set(['registered (R)']));
    await memory.indexFor([NOW, CANDIDATE]);
    expect(state.lookups).toBe(0);
    expect(counted.state.asked).toBe(3);
  });

  it('reads a remembered version once, then from memory', async () => {
    const old = { id: 'birds', version: 'v0', labels: ['old (O)'] };
    const { store, state } = fakeStore([old]);
    const memory = createModelMemory(source, store);
    const [a, b] = await Promise.all([memory.indexFor([old, old, NOW]), memory.indexFor([old])]);
    expect(a.labels('birds', 'v0')).toEqual(new Set(['old (O)']));
    expect(b.labels('birds', 'v0')).toEqual(new Set(['old (O)']));
    expect(a.labels('birds', 'v2')?.has('a (A)')).toBe(true);
    expect(a.labels('birds', 'v1')).toBeNull(); // not asked for
    await memory.indexFor([old]);
    expect(state.lookups).toBe(1);
  });

  it('asks again for a version it did not find, and after a failed lookup', async () => {
    const { store, state, rows } = fakeStore();
    const memory = createModelMemory(source, store);
    const never = { id: 'birds', version: 'v9' };
    expect((await memory.indexFor([never])).labels('birds', 'v9')).toBeNull();
    rows.set('birds@v9', ['late (L)']); // another server remembered it meanwhile
    expect((await memory.indexFor([never])).labels('birds', 'v9')).toEqual(new Set(['late (L)']));
    expect(state.lookups).toBe(2);

    const other = { id: 'insects', version: 'v1' };
    state.failing = true;
    await expect(memory.indexFor([other])).rejects.toThrow('database down');
    state.failing = false;
    expect((await memory.indexFor([other])).labels('insects', 'v1')).toBeNull();
    expect(state.lookups).toBe(4);
  });
});
