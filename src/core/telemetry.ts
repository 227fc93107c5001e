import { z } from 'zod';
import { BACKENDS } from './backend-choice';
import { isErrorCode } from './errors';
import {
  appVersionSchema,
  daySchema,
  labelLineSchema,
  modelRefSchema,
  recordIdSchema,
  type LabelIndex,
} from './feedback';
import type { ErrorCode } from './errors';

/**
 * Telemetry: what the app tells the team about how a model version does in the field, so
 * that a rollout can be watched and stopped. Shared by the client (which builds events
 * and queues them in the same outbox as corrections) and the server (which validates them
 * with these schemas and publishes them as OpenAPI).
 *
 * Anonymous by construction: an event holds no image, no location, no account, user,
 * device or installation id (the rollout secret never leaves the device), no address and
 * no time of day: the local day only. Its `id` is a fresh random UUID per event, the
 * idempotency key of a resend, which links nothing but a verdict to its identification.
 */

export const TELEMETRY_API_PATH = '/api/v1/telemetry';
export const MAX_TELEMETRY_EVENTS = 200;
/** Ten minutes: longer is a hung worker, not a latency. */
export const MAX_LATENCY_MS = 600_000;

export const channelSchema = z.enum(['stable', 'candidate']);
const backendSchema = z.enum(BACKENDS);
const latencySchema = z.number().min(0).max(MAX_LATENCY_MS);
const confidenceSchema = z.number().min(0).max(1);
export const ANSWER_KINDS = ['species', 'group', 'not-sure', 'no-animal'] as const;
export const TELEMETRY_VERDICTS = [
  'correct',
  'corrected',
  'not-an-animal',
  'unknown-species',
] as const;

const common = {
  id: recordIdSchema,
  day: daySchema,
  appVersion: appVersionSchema,
};

/** One version's answer to a photo: its best output (calibrated) and how long it took. */
const versionAnswerSchema = z.strictObject({
  model: modelRefSchema,
  channel: channelSchema,
  /** The label line of the best output, exactly as in the version's labels.txt. */
  top1: labelLineSchema,
  confidence: confidenceSchema,
  latencyMs: latencySchema,
});

export const identificationEventSchema = z.strictObject({
  ...common,
  kind: z.literal('identification'),
  ...versionAnswerSchema.shape,
  backend: backendSchema,
  answerKind: z.enum(ANSWER_KINDS),
  /** The other version on the same prepared photo, when this photo was drawn to run side by side. */
  shadow: versionAnswerSchema.extend({ agrees: z.boolean() }).optional(),
});

/** A verdict given later on an identification: confirmed, corrected or neither. */
export const verdictEventSchema = z.strictObject({
  ...common,
  kind: z.literal('verdict'),
  identification: recordIdSchema,
  model: modelRefSchema,
  verdict: z.enum(TELEMETRY_VERDICTS),
});

/** Once per session and model: whether the model could be loaded, and why not. */
export const modelLoadEventSchema = z
  .strictObject({
    ...common,
    kind: z.literal('model-load'),
    model: modelRefSchema,
    channel: channelSchema,
    backend: backendSchema.nullable(),
    outcome: z.enum(['loaded', 'failed']),
    /** An error code of the project's vocabulary, when it failed. */
    code: z.string().refine(isErrorCode, 'is not an error code').optional(),
  })
  .refine((event) => (event.outcome === 'failed') === (event.code !== undefined), {
    message: 'a code is given exactly when the load failed',
    path: ['code'],
  });

/** The worker left a backend for another (or for none) while a model was loaded. */
export const backendFallbackEventSchema = z.strictObject({
  ...common,
  kind: z.literal('backend-fallback'),
  model: modelRefSchema,
  from: backendSchema,
  to: backendSchema.nullable(),
});

export const telemetryEventSchema = z.union([
  identificationEventSchema,
  verdictEventSchema,
  modelLoadEventSchema,
  backendFallbackEventSchema,
]);

export const telemetryBatchSchema = z.strictObject({
  events: z.array(telemetryEventSchema).min(1).max(MAX_TELEMETRY_EVENTS),
});

export type TelemetryEvent = z.infer<typeof telemetryEventSchema>;
export type IdentificationEvent = z.infer<typeof identificationEventSchema>;
export type VerdictEvent = z.infer<typeof verdictEventSchema>;
export type ModelLoadEvent = z.infer<typeof modelLoadEventSchema>;
export type BackendFallbackEvent = z.infer<typeof backendFallbackEventSchema>;
export type TelemetryBatch = z.infer<typeof telemetryBatchSchema>;
export type Channel = z.infer<typeof channelSchema>;

/**
 * The checks the schema cannot make alone: every model version must be known to the
 * server and every label one of that version's species. Returns the first problem's code,
 * or null for an event the server may store.
 */
export function telemetryEventProblem(event: TelemetryEvent, index: LabelIndex): ErrorCode | null {
  const answers =
    event.kind === 'identification'
      ? [event, ...(event.shadow === undefined ? [] : [event.shadow])]
      : [{ model: event.model, top1: null }];
  for (const { model, top1 } of answers) {
    const labels = index.labels(model.id, model.version);
    if (labels === null) return 'UNKNOWN_MODEL';
    // The background line is a real output: a "no animal" answer's best output may be it.
    if (top1 !== null && !labels.has(top1)) return 'UNKNOWN_LABEL';
  }
  if (event.kind === 'identification' && event.shadow !== undefined) {
    // The pair is the other version of the same model, on the other channel.
    const { shadow } = event;
    if (shadow.model.id !== event.model.id || shadow.model.version === event.model.version) {
      return 'VALIDATION_FAILED';
    }
    if (shadow.channel === event.channel) return 'VALIDATION_FAILED';
    if (shadow.agrees !== (shadow.top1 === event.top1)) return 'VALIDATION_FAILED';
  }
  return null;
}
