import { describe, expect, it } from 'vitest';
import type { Answer, Prediction } from './answer';
import {
  buildVerdictRecord,
  predictedLabel,
  settleChoice,
  stampVerdict,
  type VerdictChoice,
  type VerdictRecordContext,
} from './verdict-record';

const ROBIN = 'Turdus migratorius (American Robin)';
const SPARROW = 'Passer domesticus (House Sparrow)';
const MODEL = { id: 'inat-birds-mobilenet-v2', version: 'abc123def0' };

const prediction = (label: string, probability: number, index = 0): Prediction => ({
  index,
  label,
  name: label,
  scientificName: null,
  probability,
});

const animal: Answer = {
  kind: 'animal',
  top: [prediction(ROBIN, 0.8), prediction(SPARROW, 0.15, 1)],
};
const noAnimal: Answer = {
  kind: 'no-animal',
  top: [prediction(ROBIN, 0.1)],
  nonAnimalProbability: 0.9,
};

const context: VerdictRecordContext = {
  id: '00000000-0000-4000-8000-000000000001',
  day: '2026-05-01',
  appVersion: '0.1.0',
  photo: null,
};

describe('settleChoice', () => {
  it('turns picking the predicted species into a confirmation', () => {
    expect(settleChoice({ kind: 'corrected', correctedLabel: ROBIN }, ROBIN)).toEqual({
      kind: 'correct',
    });
  });

  it('leaves every other choice as it is', () => {
    const choices: VerdictChoice[] = [
      { kind: 'corrected', correctedLabel: SPARROW },
      { kind: 'correct' },
      { kind: 'not-an-animal' },
      { kind: 'unknown-species', freeTextName: ROBIN },
    ];
    for (const choice of choices) expect(settleChoice(choice, ROBIN)).toBe(choice);
    // With no prediction there is nothing to confirm.
    const corrected: VerdictChoice = { kind: 'corrected', correctedLabel: ROBIN };
    expect(settleChoice(corrected, null)).toBe(corrected);
  });
});

describe('predictedLabel', () => {
  it('is the top-1 label of an animal answer, and null otherwise', () => {
    expect(predictedLabel(animal)).toBe(ROBIN);
    expect(predictedLabel(noAnimal)).toBeNull();
    expect(predictedLabel({ kind: 'not-sure', top: [prediction(ROBIN, 0.2)] })).toBeNull();
    expect(predictedLabel({ kind: 'animal', top: [] })).toBeNull();
  });
});

describe('stampVerdict', () => {
  it('gives the choice the time it was made, and nothing else', () => {
    expect(stampVerdict({ kind: 'corrected', correctedLabel: SPARROW }, 42)).toEqual({
      kind: 'corrected',
      correctedLabel: SPARROW,
      decidedAt: 42,
    });
  });
});

describe('buildVerdictRecord', () => {
  it('builds a correction with the model as two fields and the candidates shown', () => {
    const built = buildVerdictRecord(
      { model: MODEL, answer: animal, choice: { kind: 'corrected', correctedLabel: SPARROW } },
      context,
    );
    expect(built).toEqual({
      ok: true,
      value: {
        choice: { kind: 'corrected', correctedLabel: SPARROW },
        record: {
          id: context.id,
          model: MODEL,
          predicted: ROBIN,
          verdict: 'corrected',
          correctedLabel: SPARROW,
          day: '2026-05-01',
          top: [
            { label: ROBIN, probability: 0.8 },
            { label: SPARROW, probability: 0.15 },
          ],
          appVersion: '0.1.0',
        },
      },
    });
  });

  it('records picking the predicted species as a confirmation, and says so', () => {
    const built = buildVerdictRecord(
      { model: MODEL, answer: animal, choice: { kind: 'corrected', correctedLabel: ROBIN } },
      context,
    );
    expect(built.ok && built.value.choice).toEqual({ kind: 'correct' });
    expect(built.ok && built.value.record).toMatchObject({ verdict: 'correct', predicted: ROBIN });
    expect(built.ok && 'correctedLabel' in built.value.record).toBe(false);
  });

  it('keeps a free-text name only when one was given, normalised', () => {
    const named = buildVerdictRecord(
      {
        model: MODEL,
        answer: noAnimal,
        choice: { kind: 'unknown-species', freeTextName: '  Blue tit ' },
      },
      context,
    );
    expect(named.ok && named.value.record).toMatchObject({
      verdict: 'unknown-species',
      predicted: null,
      freeTextName: 'Blue tit',
    });
    const unnamed = buildVerdictRecord(
      { model: MODEL, answer: noAnimal, choice: { kind: 'unknown-species', freeTextName: null } },
      context,
    );
    expect(unnamed.ok && 'freeTextName' in unnamed.value.record).toBe(false);
  });

  it('carries the photo only when there is one', () => {
    const withPhoto = buildVerdictRecord(
      { model: MODEL, answer: animal, choice: { kind: 'correct' } },
      { ...context, photo: 'AAAA' },
    );
    expect(withPhoto.ok && withPhoto.value.record.photo).toBe('AAAA');
    const without = buildVerdictRecord(
      { model: MODEL, answer: animal, choice: { kind: 'correct' } },
      context,
    );
    expect(without.ok && 'photo' in without.value.record).toBe(false);
  });

  it('refuses what the server would refuse, with the field named', () => {
    const built = buildVerdictRecord(
      { model: { id: 'Not A Model', version: 'x' }, answer: animal, choice: { kind: 'correct' } },
      context,
    );
    expect(built.ok).toBe(false);
    expect(!built.ok && built.error.code).toBe('VALIDATION_FAILED');
    expect(!built.ok && built.error.detail).toMatch(/^model\.id/);
    // "Correct" on an answer that predicted nothing cannot be a confirmation.
    const nothingToConfirm = buildVerdictRecord(
      { model: MODEL, answer: noAnimal, choice: { kind: 'correct' } },
      context,
    );
    expect(nothingToConfirm.ok).toBe(false);
  });
});
