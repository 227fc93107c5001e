import { describe, expect, it } from 'vitest';
import type { Answer } from '../../core/answer';
import type { Routing } from '../../core/cascade';
import type { AnswerSummary } from '../../core/taxonomy-answer';
import { answerText } from './answer-text';

/** What the app says for each kind of answer: the words a field user reads first. */

const BIRDS_ANSWER: Answer = {
  kind: 'animal',
  top: [
    {
      index: 3,
      label: 'Cyanocitta cristata (Blue Jay)',
      name: 'Blue Jay',
      scientificName: 'Cyanocitta cristata',
      probability: 0.97,
    },
  ],
};
const VIA: Routing = {
  via: { model: { id: 'imagenet-mobilenet-v2', version: '1' }, group: 'bird', probability: 0.99 },
  outsideGroup: null,
  missing: null,
};
const summary = (s: Partial<AnswerSummary>): AnswerSummary => ({
  kind: 'species',
  name: null,
  scientificName: null,
  path: [],
  probability: 0.5,
  ...s,
});

describe('answerText', () => {
  it('names a species a specialist gave with the group that handed it over', () => {
    const text = answerText(
      BIRDS_ANSWER,
      summary({
        name: 'Blue Jay',
        scientificName: 'Cyanocitta cristata',
        path: ['animal', 'bird', 'Cyanocitta'],
      }),
      VIA,
    );
    expect(text).toEqual({
      context: 'Bird',
      title: 'Blue Jay',
      scientificName: 'Cyanocitta cristata',
      path: ['animal', 'bird', 'Cyanocitta'],
    });
  });

  it('says a breed is unclear for a dog or cat group, and "not sure which" for others', () => {
    const cat = answerText(
      { kind: 'not-sure', top: [] },
      summary({ kind: 'group', name: 'cat', path: ['animal', 'mammal', 'cat family', 'cat'] }),
    );
    expect(cat.title).toBe('A cat (breed unclear)');
    const terrier = answerText(
      { kind: 'not-sure', top: [] },
      summary({ kind: 'group', name: 'terrier', path: ['animal', 'mammal', 'dog', 'terrier'] }),
    );
    expect(terrier.title).toBe('A terrier (breed unclear)');
    const owl = answerText(
      { kind: 'not-sure', top: [] },
      summary({ kind: 'group', name: 'owl', path: ['animal', 'bird', 'owl'] }),
    );
    expect(owl.title).toBe('An owl, not sure which');
  });

  it('names a genus by its Latin name under the kind of animal it is', () => {
    const text = answerText(
      { kind: 'not-sure', top: [] },
      summary({
        kind: 'group',
        name: 'Spinus',
        scientificName: 'Spinus',
        path: ['animal', 'bird', 'Spinus'],
      }),
      VIA,
    );
    expect(text.title).toBe('A bird of the genus Spinus, not sure which');
    expect(text.context).toBe('Bird');
  });

  it('says a photo outside a hand-chosen specialist group does not look like one', () => {
    const text = answerText(
      BIRDS_ANSWER,
      summary({ name: 'zebra', path: ['animal', 'mammal', 'hoofed mammal'] }),
      { via: null, outsideGroup: 'insect', missing: null },
    );
    expect(text.title).toBe('This does not look like an insect');
    expect(text.scientificName).toBeNull();
  });

  it('says "Not sure" and "No animal recognised" without a name', () => {
    expect(answerText({ kind: 'not-sure', top: [] }, summary({ kind: 'not-sure' })).title).toBe(
      'Not sure',
    );
    expect(
      answerText(
        { kind: 'no-animal', top: [], nonAnimalProbability: 0.9 },
        summary({ kind: 'no-animal' }),
      ).title,
    ).toBe('No animal recognised');
  });

  it('falls back to the label names for a model without groups', () => {
    expect(answerText(BIRDS_ANSWER, undefined)).toMatchObject({
      title: 'Blue Jay',
      scientificName: 'Cyanocitta cristata',
    });
  });
});
