import 'fake-indexeddb/auto';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { Classification } from '../../worker/api/protocol';
import { historyDb } from './history-db';
import { flushRecording, recordIdentification } from './recording';

/** recordIdentification into the app's own history database, in fake-indexeddb. */

// The recorder listens for the page being hidden; Node has no page.
beforeAll(() => {
  vi.stubGlobal('window', new EventTarget());
  vi.stubGlobal('document', Object.assign(new EventTarget(), { visibilityState: 'visible' }));
});

const jay: Classification = {
  answer: {
    kind: 'animal',
    top: [
      {
        index: 3,
        label: 'Cyanocitta cristata (Blue Jay)',
        name: 'Blue Jay',
        scientificName: 'Cyanocitta cristata',
        probability: 0.7,
      },
    ],
  },
  summary: {
    kind: 'species',
    name: 'Blue Jay',
    scientificName: 'Cyanocitta cristata',
    path: ['animal', 'bird', 'Cyanocitta'],
    probability: 0.7,
  },
  routing: {
    via: { model: { id: 'imagenet-mobilenet-v2', version: 'g1' }, group: 'bird', probability: 0.9 },
    outsideGroup: null,
    missing: null,
  },
  rawTop: [],
  model: { id: 'inat-birds-mobilenet-v2', version: 'b1' },
  backend: 'wasm',
  timings: { decodeMs: 1, inferenceMs: 2, batchSize: 1 },
  warnings: [],
  width: 10,
  height: 10,
  thumbnail: new Blob([new Uint8Array(8)], { type: 'image/jpeg' }),
};

describe('recording an identification', () => {
  it('keeps the model that answered, the general model that routed, the answer and the batch', async () => {
    const batchId = '00000000-0000-4000-8000-0000000000b1';
    const id = recordIdentification('trip/jay.jpg', jay, { batchId });
    expect(id).not.toBeNull();
    await flushRecording();
    expect(await historyDb.getObservation(id!)).toMatchObject({
      fileName: 'trip/jay.jpg',
      model: { id: 'inat-birds-mobilenet-v2', version: 'b1' },
      via: jay.routing!.via,
      summary: jay.summary,
      batchId,
      top: [{ label: 'Cyanocitta cristata (Blue Jay)' }],
    });
    expect(await historyDb.getThumbnail(id!)).toBeInstanceOf(Blob);
  });

  it('records a photo on its own, and one from a single model, as before', async () => {
    const alone: Classification = { ...jay };
    delete alone.routing;
    delete alone.summary;
    const id = recordIdentification('camera photo', alone);
    await flushRecording();
    expect(await historyDb.getObservation(id!)).toMatchObject({
      fileName: 'camera photo',
      model: { id: 'inat-birds-mobilenet-v2', version: 'b1' },
      batchId: null,
      summary: null,
      via: null,
    });
  });
});
