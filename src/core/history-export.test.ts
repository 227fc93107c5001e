import { describe, expect, it } from 'vitest';
import { observationColumns, toObservationExport } from './history-export';
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
      'time,id,file,status,label,name,scientificName,probability,label2,probability2,label3,probability3,label4,probability4,label5,probability5,model,backend,verdict,correctedLabel,freeTextName,lat,lon',
    );
    expect(lines[1]).toBe(
      '2026-06-01T12:30:00.000Z,00000000-0000-4000-8000-000000000001,\'=cmd|fox.jpg,animal,"red fox, Vulpes vulpes",red fox,,0.9000,kit fox,0.0500,,,,,,,imagenet-mobilenet-v2@1.0.0,wasm,corrected,grey fox,,51.5,-0.1',
    );
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
