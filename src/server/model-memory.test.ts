import { describe, expect, it } from 'vitest';
import type { FeedbackStore, ServedModel } from './feedback-store';
import { createModelMemory, servedModels, type ServedModels } from './model-memory';

const NOW = { id: 'birds', version: 'v2' };
const registry: ServedModels = {
  manifest: { models: [{ ...NOW }] as ServedModels['manifest']['models'] },
  labels: (id, version) =>
    id === NOW.id && version === NOW.version ? new Set(['b (B)', 'a (A)']) : null,
};

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
  it('lists what is served now with its label lines, in order', () => {
    expect(servedModels(registry)).toEqual([{ ...NOW, labels: ['b (B)', 'a (A)'] }]);
  });

  it('remembers what is served now', async () => {
    const { store, rows } = fakeStore();
    await createModelMemory(registry, store).rememberServed();
    expect(rows.get('birds@v2')).toEqual(['b (B)', 'a (A)']);
  });

  it('answers for a version served now without asking the database', async () => {
    const { store, state } = fakeStore();
    const index = await createModelMemory(registry, store).indexFor([NOW, NOW]);
    expect(index.labels(NOW.id, NOW.version)).toEqual(new Set(['b (B)', 'a (A)']));
    expect(state.lookups).toBe(0);
  });

  it('reads a remembered version once, then from memory', async () => {
    const old = { id: 'birds', version: 'v1', labels: ['old (O)'] };
    const { store, state } = fakeStore([old]);
    const memory = createModelMemory(registry, store);
    const [a, b] = await Promise.all([memory.indexFor([old, old, NOW]), memory.indexFor([old])]);
    expect(a.labels('birds', 'v1')).toEqual(new Set(['old (O)']));
    expect(b.labels('birds', 'v1')).toEqual(new Set(['old (O)']));
    expect(a.labels('birds', 'v2')?.has('a (A)')).toBe(true);
    expect(a.labels('birds', 'v0')).toBeNull(); // not asked for
    await memory.indexFor([old]);
    expect(state.lookups).toBe(1);
  });

  it('asks again for a version it did not find, and after a failed lookup', async () => {
    const { store, state, rows } = fakeStore();
    const memory = createModelMemory(registry, store);
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
