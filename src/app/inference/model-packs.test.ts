import { describe, expect, it } from 'vitest';
import { fakeManifest, fakeModelEntry } from '../../core/model-manifest.fixtures';
import { modelChoice } from '../settings/model-choice';
import { modelUses } from './model-packs';

/** Which models count as in use (offered together, removed only after a confirmation). */
const general = fakeModelEntry('imagenet-mobilenet-v2', 'g1');
const birds = fakeModelEntry('inat-birds-mobilenet-v2', 'b1');
const insects = fakeModelEntry('inat-insects-mobilenet-v2', 'i1');
const other = fakeModelEntry('uncatalogued-model', 'o1');
const manifest = fakeManifest(general, birds, insects, other);

describe('modelUses', () => {
  it('in Auto, the general model and every specialist are in use, nothing else', () => {
    const uses = modelUses(modelChoice(manifest, null));
    expect(Object.fromEntries(uses)).toEqual({
      [general.id]: { kind: 'auto-general' },
      [birds.id]: { kind: 'auto-specialist', group: 'bird' },
      [insects.id]: { kind: 'auto-specialist', group: 'insect' },
    });
  });

  it('a model chosen by hand is in use, with the general model when it is a specialist', () => {
    expect([...modelUses(modelChoice(manifest, general.id)).keys()]).toEqual([general.id]);
    expect([...modelUses(modelChoice(manifest, other.id)).keys()]).toEqual([other.id]);
    const uses = modelUses(modelChoice(manifest, insects.id));
    expect(uses.get(insects.id)).toEqual({ kind: 'chosen' });
    expect(uses.get(general.id)).toMatchObject({
      kind: 'checks-group',
      group: 'insect',
      specialist: { id: insects.id },
    });
    expect(uses.has(birds.id)).toBe(false);
  });
});
