import { describe, expect, it } from 'vitest';
import {
  telemetryBatchSchema,
  telemetryEventProblem,
  telemetryEventSchema,
  type IdentificationEvent,
} from './telemetry';

const STABLE = { id: 'imagenet-mobilenet-v2', version: 'aaaa000000' };
const CANDIDATE = { id: 'imagenet-mobilenet-v2', version: 'bbbb000000' };
const LABELS = new Set(['background', 'tench, Tinca tinca', 'goldfish, Carassius auratus']);
const index = {
  labels: (id: string, version: string) =>
    id === STABLE.id && [STABLE.version, CANDIDATE.version].includes(version) ? LABELS : null,
};

const identification: IdentificationEvent = {
  id: '0b6f8a52-7e0c-4c1e-9d43-2f6d1c1a9e01',
  day: '2026-12-01',
  appVersion: '0.1.0',
  kind: 'identification',
  model: STABLE,
  channel: 'stable',
  top1: 'tench, Tinca tinca',
  confidence: 0.91,
  latencyMs: 48.2,
  backend: 'webgl',
  answerKind: 'species',
  shadow: {
    model: CANDIDATE,
    channel: 'candidate',
    top1: 'goldfish, Carassius auratus',
    confidence: 0.55,
    latencyMs: 51,
    agrees: false,
  },
};

describe('telemetry events', () => {
  it('takes an identification with its side-by-side pair, a verdict, a load and a fallback', () => {
    const events = [
      identification,
      {
        id: '0b6f8a52-7e0c-4c1e-9d43-2f6d1c1a9e02',
        day: '2026-12-01',
        appVersion: '0.1.0',
        kind: 'verdict',
        identification: identification.id,
        model: STABLE,
        verdict: 'corrected',
      },
      {
        id: '0b6f8a52-7e0c-4c1e-9d43-2f6d1c1a9e03',
        day: '2026-12-01',
        appVersion: '0.1.0',
        kind: 'model-load',
        model: CANDIDATE,
        channel: 'candidate',
        backend: null,
        outcome: 'failed',
        code: 'MODEL_INTEGRITY_FAILED',
      },
      {
        id: '0b6f8a52-7e0c-4c1e-9d43-2f6d1c1a9e04',
        day: '2026-12-01',
        appVersion: '0.1.0',
        kind: 'backend-fallback',
        model: STABLE,
        from: 'webgpu',
        to: 'wasm',
      },
    ];
    const parsed = telemetryBatchSchema.safeParse({ events });
    expect(parsed.success).toBe(true);
    for (const event of parsed.data!.events) expect(telemetryEventProblem(event, index)).toBeNull();
  });

  it('holds nothing that identifies a person, a device or a moment', () => {
    for (const extra of [
      { installation: 'f'.repeat(64) },
      { time: '2026-12-01T10:12:00Z' },
      { photo: 'AAAA' },
      { latitude: 51.5 },
      { userAgent: 'Mozilla/5.0' },
    ]) {
      expect(telemetryEventSchema.safeParse({ ...identification, ...extra }).success).toBe(false);
    }
    expect(
      telemetryEventSchema.safeParse({ ...identification, day: '2026-12-01T10:00' }).success,
    ).toBe(false);
  });

  it('refuses what cannot be true: unknown versions or labels, a pair that is no pair', () => {
    const problem = (changes: Partial<IdentificationEvent>) =>
      telemetryEventProblem({ ...identification, ...changes }, index);
    expect(problem({ model: { ...STABLE, version: 'cccc000000' } })).toBe('UNKNOWN_MODEL');
    expect(problem({ top1: 'zebra' })).toBe('UNKNOWN_LABEL');
    const shadow = identification.shadow!;
    expect(problem({ shadow: { ...shadow, model: STABLE } })).toBe('VALIDATION_FAILED');
    expect(problem({ shadow: { ...shadow, channel: 'stable' } })).toBe('VALIDATION_FAILED');
    expect(problem({ shadow: { ...shadow, agrees: true } })).toBe('VALIDATION_FAILED');
    expect(telemetryEventSchema.safeParse({ ...identification, confidence: 1.2 }).success).toBe(
      false,
    );
    expect(telemetryEventSchema.safeParse({ ...identification, latencyMs: -1 }).success).toBe(
      false,
    );
    const failedWithoutCode = {
      id: identification.id,
      day: '2026-12-01',
      appVersion: '0.1.0',
      kind: 'model-load',
      model: STABLE,
      channel: 'stable',
      backend: 'wasm',
      outcome: 'failed',
    };
    expect(telemetryEventSchema.safeParse(failedWithoutCode).success).toBe(false);
    expect(
      telemetryEventSchema.safeParse({ ...failedWithoutCode, code: 'NOT_A_CODE' }).success,
    ).toBe(false);
  });
});
