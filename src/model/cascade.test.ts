import { describe, expect, it } from 'vitest';
import { translateOutput, toPrediction, topK } from '../core/answer';
import { fail, ok, type Result } from '../core/errors';
import type { ModelEntry } from '../core/model-manifest';
import { fakeModelEntry } from '../core/model-manifest.fixtures';
import { summariserFor } from '../core/taxonomy-answer';
import { loadRealModel, outputVector } from '../../test-support/real-models';
import { createCascade, type CascadeOptions, type CascadeSpecialist } from './cascade';
import type { Engine, PreparedPhoto } from './engine';

/**
 * The cascade's rules over engines that answer with chosen outputs, on the real label
 * files and group table of the general and birds models: which model answers, what the
 * routing says, and what happens when the birds model cannot be loaded. The engines on
 * real photos are covered by src/cli/classify-auto.test.ts.
 */

const GENERAL = loadRealModel('imagenet-mobilenet-v2');
const BIRDS = loadRealModel('inat-birds-mobilenet-v2');
const line = (labels: typeof GENERAL.labels, text: string) =>
  labels.findIndex((l) => l.line === text || l.line.startsWith(`${text},`));
const JAY = line(GENERAL.labels, 'jay');
const MAGPIE = line(GENERAL.labels, 'magpie');
const ZEBRA = line(GENERAL.labels, 'zebra');
const BLUE_JAY = line(BIRDS.labels, 'Cyanocitta cristata (Blue Jay)');
const BIRDS_BACKGROUND = BIRDS.spec.backgroundIndex!;
/** Three bird species of three genera: split evenly, no species and no genus is certain. */
const UNSURE_BIRDS = (() => {
  const picked: number[] = [];
  const genera = new Set<string>();
  for (const label of BIRDS.labels) {
    const genus = label.scientificName?.split(' ')[0];
    if (genus === undefined || genera.has(genus) || label.index === BIRDS_BACKGROUND) continue;
    genera.add(genus);
    picked.push(label.index);
    if (picked.length === 3) break;
  }
  return Object.fromEntries(picked.map((index) => [index, 0.25]));
})();

function entryOf(id: string, spec: typeof GENERAL.spec): ModelEntry {
  const base = fakeModelEntry(id, '1');
  return { ...base, id, labels: spec, output: { classes: spec.count, isProbability: true } };
}
const GENERAL_ENTRY = entryOf('imagenet-mobilenet-v2', GENERAL.spec);
const BIRDS_ENTRY = entryOf('inat-birds-mobilenet-v2', BIRDS.spec);
const BIRDS_SPECIALIST: CascadeSpecialist = { group: 'bird', entry: BIRDS_ENTRY };

/** A photo stands for the outputs each model gives it. */
interface FakePhoto extends PreparedPhoto {
  outputs: Record<string, Float32Array>;
}

function photo(general: Record<number, number>, birds: Record<number, number> = {}): FakePhoto {
  return {
    image: { data: new Uint8ClampedArray(4), width: 1, height: 1 },
    width: 1,
    height: 1,
    warnings: [],
    decodeMs: 1,
    outputs: {
      [GENERAL_ENTRY.id]: outputVector(GENERAL.spec.count, general),
      [BIRDS_ENTRY.id]: outputVector(BIRDS.spec.count, birds),
    },
  };
}

/** An engine that reads each photo's chosen output and explains it as the real engine does. */
function fakeEngine(entry: ModelEntry, model: typeof GENERAL, seen: string[]): Engine {
  const summariser = summariserFor(entry, model.labels);
  const engine: Partial<Engine> = {
    async infer(photos) {
      seen.push(...photos.map(() => entry.id));
      return ok({
        outputs: photos.map((p) => (p as FakePhoto).outputs[entry.id]!),
        inferenceMs: 2,
      });
    },
    explain(probabilities, k) {
      const answer = translateOutput(probabilities, model.labels, entry.labels, { topK: k });
      if (!answer.ok) return answer;
      const summary = summariser.describe(probabilities);
      if (!summary.ok) return summary;
      return ok({
        answer: answer.value,
        summary: summary.value,
        rawTop: topK(probabilities, k).map(({ index, probability }) =>
          toPrediction(model.labels[index]!, probability),
        ),
        model: { id: entry.id, version: entry.version },
      });
    },
    labels: () => ({ model: { id: entry.id, version: entry.version }, labels: model.labels }),
    inputSize: () => 224,
    backend: () => 'wasm',
  };
  return engine as Engine;
}

function cascadeOf(
  overrides: Partial<CascadeOptions> & { openResult?: () => Result<Engine> } = {},
) {
  const ran: string[] = [];
  const opened: string[] = [];
  const birds = fakeEngine(BIRDS_ENTRY, BIRDS, ran);
  const built = createCascade({
    general: fakeEngine(GENERAL_ENTRY, GENERAL, ran),
    generalEntry: GENERAL_ENTRY,
    specialists: [BIRDS_SPECIALIST],
    handChosen: false,
    openSpecialist: async ({ entry }) => {
      opened.push(entry.id);
      return overrides.openResult?.() ?? ok(birds);
    },
    ...overrides,
  });
  if (!built.ok) throw new Error(built.error.message);
  return { cascade: built.value, ran, opened };
}

describe('Auto mode over engines', () => {
  it('hands a photo the general model calls a bird to the birds model, and says so', async () => {
    const { cascade, ran } = cascadeOf();
    const result = await cascade.classify(
      [photo({ [JAY]: 0.7, [MAGPIE]: 0.2 }, { [BLUE_JAY]: 0.9 })],
      5,
    );
    expect(result.ok).toBe(true);
    const [jay] = result.ok ? result.value : [];
    expect(jay!.model.id).toBe(BIRDS_ENTRY.id);
    expect(jay!.summary).toMatchObject({ kind: 'species', name: 'Blue Jay' });
    expect(jay!.summary!.path.slice(0, 2)).toEqual(['animal', 'bird']);
    expect(jay!.routing).toEqual({
      via: {
        model: { id: GENERAL_ENTRY.id, version: GENERAL_ENTRY.version },
        group: 'bird',
        probability: expect.closeTo(0.9, 5),
      },
      outsideGroup: null,
      missing: null,
    });
    expect(ran).toEqual([GENERAL_ENTRY.id, BIRDS_ENTRY.id]);
  });

  it('never asks the birds model about a zebra, even when a bird class is its runner-up', async () => {
    const { cascade, ran, opened } = cascadeOf();
    const result = await cascade.classify(
      [photo({ [ZEBRA]: 0.6, [JAY]: 0.3 }, { [BLUE_JAY]: 1 })],
      5,
    );
    const [zebra] = result.ok ? result.value : [];
    expect(zebra!.model.id).toBe(GENERAL_ENTRY.id);
    expect(zebra!.summary).toMatchObject({ kind: 'species', name: 'zebra' });
    expect(zebra!.routing).toBeUndefined();
    expect(ran).toEqual([GENERAL_ENTRY.id]);
    expect(opened).toEqual([]);
  });

  it('keeps the general answer when the birds model says background or is not sure', async () => {
    const { cascade } = cascadeOf();
    const result = await cascade.classify(
      [photo({ [JAY]: 0.9 }, { [BIRDS_BACKGROUND]: 0.95 }), photo({ [JAY]: 0.9 }, UNSURE_BIRDS)],
      5,
    );
    expect(result.ok && result.value.map((r) => r.model.id)).toEqual([
      GENERAL_ENTRY.id,
      GENERAL_ENTRY.id,
    ]);
  });

  it('answers with the general model and names what is missing when the birds model cannot be loaded, and tries again next time', async () => {
    let offline = true;
    const { cascade, opened } = cascadeOf({
      openResult: () => (offline ? fail('OFFLINE', 'no network') : undefined!),
    });
    const first = await cascade.classify([photo({ [JAY]: 0.9 }, { [BLUE_JAY]: 0.9 })], 5);
    const [jay] = first.ok ? first.value : [];
    expect(jay!.model.id).toBe(GENERAL_ENTRY.id);
    expect(jay!.routing?.missing).toMatchObject({ modelId: BIRDS_ENTRY.id, group: 'bird' });
    offline = false;
    const second = await cascade.classify([photo({ [JAY]: 0.9 }, { [BLUE_JAY]: 0.9 })], 5);
    expect(second.ok && second.value[0]!.model.id).toBe(BIRDS_ENTRY.id);
    expect(opened).toEqual([BIRDS_ENTRY.id, BIRDS_ENTRY.id]);
    // Loaded once, kept: a third photo does not open it again.
    await cascade.classify([photo({ [JAY]: 0.9 }, { [BLUE_JAY]: 0.9 })], 5);
    expect(opened).toHaveLength(2);
  });

  it('with the birds model chosen by hand: a zebra "does not look like a bird", a bird gets the birds model even when it is not sure', async () => {
    const { cascade } = cascadeOf({ handChosen: true });
    const result = await cascade.classify(
      [photo({ [ZEBRA]: 0.9 }, { [BLUE_JAY]: 0.93 }), photo({ [JAY]: 0.9 }, UNSURE_BIRDS)],
      5,
    );
    const [zebra, unsure] = result.ok ? result.value : [];
    expect(zebra!.model.id).toBe(GENERAL_ENTRY.id);
    expect(zebra!.routing).toEqual({ via: null, outsideGroup: 'bird', missing: null });
    expect(unsure!.model.id).toBe(BIRDS_ENTRY.id);
    expect(unsure!.summary!.kind).toBe('not-sure');
    expect(unsure!.routing?.via?.group).toBe('bird');
  });

  it('routes several photos of one animal on their combined output', async () => {
    const { cascade } = cascadeOf();
    // Each photo alone is under the bird threshold; together they are a bird.
    const photos = [
      photo({ [JAY]: 0.45, [ZEBRA]: 0.4 }, { [BLUE_JAY]: 0.6 }),
      photo({ [JAY]: 0.45, [ZEBRA]: 0.05 }, { [BLUE_JAY]: 0.7 }),
    ];
    const apart = await cascade.classifyAnimals([[photos[0]!]], 5);
    expect(apart.ok && apart.value[0]!.explanation.model.id).toBe(GENERAL_ENTRY.id);
    const together = await cascade.classifyAnimals([photos], 5);
    expect(together.ok && together.value[0]!.explanation.model.id).toBe(BIRDS_ENTRY.id);
  });

  it('holds a preloaded specialist from the start: freed with the others, never opened again', async () => {
    const ran: string[] = [];
    const birds = fakeEngine(BIRDS_ENTRY, BIRDS, ran);
    const opened: string[] = [];
    const built = createCascade({
      general: fakeEngine(GENERAL_ENTRY, GENERAL, ran),
      generalEntry: GENERAL_ENTRY,
      specialists: [BIRDS_SPECIALIST],
      handChosen: true,
      openSpecialist: async ({ entry }) => {
        opened.push(entry.id);
        return fail('MODEL_LOAD_FAILED', 'should not be opened');
      },
      preloaded: new Map([[BIRDS_ENTRY.id, birds]]),
    });
    if (!built.ok) throw new Error(built.error.message);
    expect(built.value.loadedEngines()).toContain(birds);
    const result = await built.value.classify([photo({ [JAY]: 0.9 }, { [BLUE_JAY]: 0.9 })], 5);
    expect(result.ok && result.value[0]!.model.id).toBe(BIRDS_ENTRY.id);
    expect(opened).toEqual([]);
  });

  it('classifyAnimal gives the combined answer and each photo its own, in order', async () => {
    const { cascade } = cascadeOf();
    const photos = [
      photo({ [JAY]: 0.45, [ZEBRA]: 0.4 }, { [BLUE_JAY]: 0.6 }),
      photo({ [JAY]: 0.45, [ZEBRA]: 0.05 }, { [BLUE_JAY]: 0.7 }),
    ];
    const result = await cascade.classifyAnimal(photos, 5);
    if (!result.ok) throw new Error(result.error.message);
    expect(result.value.combined.model.id).toBe(BIRDS_ENTRY.id);
    expect(result.value.combined.timings).toMatchObject({ decodeMs: 2, batchSize: 2 });
    // Alone, neither photo is bird enough to reach the birds model; together they are.
    expect(result.value.photos.map((p) => p.model.id)).toEqual([
      GENERAL_ENTRY.id,
      GENERAL_ENTRY.id,
    ]);
  });
});
