import { describe, expect, it } from 'vitest';
import { parseCsvRows } from '../node/csv';
import {
  observationColumns,
  toObservationExport,
  type ExportedObservation,
} from './history-export';
import type { ObservationRecord } from './history-policy';
import { toCsv, toJson } from './results-export';

const fox: ObservationRecord = {
  schemaVersion: 2,
  id: '00000000-0000-4000-8000-000000000001',
  createdAt: Date.UTC(2026, 5, 1, 12, 30),
  fileName: '=cmd|fox.jpg',
  top: [
    { label: 'red fox, Vulpes vulpes', name: 'red fox', scientificName: null, probability: 0.9 },
    { label: 'kit fox', name: 'kit fox', scientificName: null, probability: 0.05 },
  ],
  answerKind: 'animal',
  model: { id: 'imagenet-mobilenet-v2', version: '1.0.0' },
  backend: 'wasm',
  verdict: { kind: 'corrected', correctedLabel: 'grey fox', decidedAt: 1 },
  location: { lat: 51.5, lon: -0.1 },
};

describe('observation CSV', () => {
  it('writes one row per observation with the guard against formulas', () => {
    const lines = toCsv([fox], observationColumns).split('\r\n');
    expect(lines[0]).toBe(
      'time,id,file,status,label,name,scientificName,probability,label2,probability2,label3,probability3,label4,probability4,label5,probability5,model,backend,verdict,correctedLabel,freeTextName,lat,lon,' +
        'batchId,answerKind,answerName,answerScientificName,answerPath,answerProbability,viaModel,viaGroup,viaProbability',
    );
    // A record written before the context was kept: its new cells are empty.
    expect(lines[1]).toBe(
      '2026-06-01T12:30:00.000Z,00000000-0000-4000-8000-000000000001,\'=cmd|fox.jpg,animal,"red fox, Vulpes vulpes",red fox,,0.9000,kit fox,0.0500,,,,,,,imagenet-mobilenet-v2@1.0.0,wasm,corrected,grey fox,,51.5,-0.1,,,,,,,,,',
    );
  });

  it('writes the batch, the answer with its groups and the general model of a routed photo', () => {
    const jay: ExportedObservation = {
      ...fox,
      fileName: 'trip/jay.jpg',
      model: { id: 'inat-birds-mobilenet-v2', version: 'abc123' },
      batchId: '00000000-0000-4000-8000-0000000000b1',
      summary: {
        kind: 'species',
        name: 'Blue Jay',
        scientificName: 'Cyanocitta cristata',
        path: ['animal', 'bird', 'Cyanocitta'],
        probability: 0.8123,
      },
      via: {
        model: { id: 'imagenet-mobilenet-v2', version: '1.0.0' },
        group: 'bird',
        probability: 0.97,
      },
    };
    const [row] = parseCsvRows(toCsv([jay], observationColumns));
    expect(row).toMatchObject({
      model: 'inat-birds-mobilenet-v2@abc123',
      batchId: '00000000-0000-4000-8000-0000000000b1',
      answerKind: 'species',
      answerName: 'Blue Jay',
      answerScientificName: 'Cyanocitta cristata',
      answerPath: 'animal > bird > Cyanocitta',
      answerProbability: '0.8123',
      viaModel: 'imagenet-mobilenet-v2@1.0.0',
      viaGroup: 'bird',
      viaProbability: '0.9700',
    });
  });

  it('leaves the time empty when it was lost', () => {
    const [, row] = toCsv([{ ...fox, createdAt: 0 }], observationColumns).split('\r\n');
    expect(row!.startsWith(',')).toBe(true);
  });
});

describe('observation JSON', () => {
  it('is the record with its time in ISO 8601', () => {
    const parsed = JSON.parse(toJson([toObservationExport(fox)])) as unknown[];
    expect(parsed).toEqual([{ ...fox, time: '2026-06-01T12:30:00.000Z' }]);
  });
});
