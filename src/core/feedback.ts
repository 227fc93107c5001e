import { z } from 'zod';
import { DEFAULT_TOP_K } from './answer';
import type { ErrorCode } from './errors';

/**
 * The feedback record: what a user's verdict on one identification sends home. Shared by
 * the client (which builds records, checks them with `feedbackRecordSchema` before they
 * enter the outbox, and reads the server's reply) and the server (which validates every
 * request with the same schemas and publishes them as OpenAPI).
 *
 * Privacy by design: a record holds no account, user or device id, no IP address, no
 * location and no time of day. The photo is optional, opt-in, and must be a small JPEG
 * without any metadata segment (see `photo-policy.ts`).
 */

export const FEEDBACK_API_PATH = '/api/v1/feedback';
export const MAX_BATCH_RECORDS = 100;
/** The candidates the user was shown, so a record can say what they chose among. */
export const MAX_TOP = DEFAULT_TOP_K;
/** The longest label line of the served models is about 120 characters. */
export const MAX_LABEL_CHARS = 300;
/** After normalisation; the raw text may be a little longer (NFC can shorten it). */
export const MAX_FREE_TEXT_CHARS = 100;
const MAX_RAW_FREE_TEXT_CHARS = 4 * MAX_FREE_TEXT_CHARS;
export const MAX_APP_VERSION_CHARS = 40;
/** A 512 px JPEG at ordinary quality is 30–80 KiB; this leaves room for detailed scenes. */
export const MAX_PHOTO_BYTES = 256 * 1024;
export const MAX_PHOTO_LONG_SIDE_PX = 512;
/**
 * The server's default body limit. A full batch without photos is far below it; a batch
 * with photos must be split (about 15 photos fit), which the client does by size.
 */
export const DEFAULT_MAX_BATCH_BYTES = 5 * 1024 * 1024;

const base64Chars = (bytes: number) => 4 * Math.ceil(bytes / 3);

// Lower case only: the id is compared as text, and `crypto.randomUUID()` writes lower case.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
/** Control characters, bidi overrides/isolates (which can disguise text), lone surrogates and U+FFFD (a decoding failure upstream). */
// eslint-disable-next-line no-control-regex
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ufffd]|\p{Cs}/u;
// Spreadsheets treat a cell starting with one of these as a formula.
const FORMULA_START = /^[=+\-@]/;

const isRealDay = (day: string): boolean => {
  const date = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === day;
};

/** A label line exactly as in the model's labels.txt; the server checks it belongs to the model. */
export const labelLineSchema = z
  .string()
  .min(1)
  .max(MAX_LABEL_CHARS)
  .refine((text) => !UNSAFE_TEXT.test(text), 'contains control or invalid characters');

export const modelRefSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/),
  version: z.string().regex(/^[0-9a-zA-Z.+-]{1,64}$/),
});

export const topPredictionSchema = z.strictObject({
  label: labelLineSchema,
  probability: z.number().min(0).max(1),
});

/** What the user typed for "Other / unknown species": NFC, trimmed, one line of plain text. */
export const freeTextNameSchema = z
  .string()
  .max(MAX_RAW_FREE_TEXT_CHARS)
  .normalize('NFC')
  .trim()
  .min(1)
  .max(MAX_FREE_TEXT_CHARS)
  .refine((text) => !UNSAFE_TEXT.test(text), 'contains control or invalid characters');

const baseFields = {
  /** Made by the client (`crypto.randomUUID()`); the idempotency key. */
  id: z.string().regex(UUID, 'must be a lower-case UUID'),
  model: modelRefSchema,
  /** The top-1 label line shown to the user; null when the answer was "no animal" or "not sure". */
  predicted: labelLineSchema.nullable(),
  /** The user's local day of the verdict; never a time of day. */
  day: z
    .string()
    .regex(DAY, { message: 'must be YYYY-MM-DD', abort: true })
    .refine(isRealDay, { message: 'is not a calendar day', abort: true })
    .refine((day) => day >= '2024-01-01', 'is before 2024'),
  /** Opt-in only: a JPEG of at most 512 px, with no metadata, as base64. */
  photo: z.base64().min(1).max(base64Chars(MAX_PHOTO_BYTES)).optional(),
  top: z.array(topPredictionSchema).max(MAX_TOP).optional(),
  appVersion: z
    .string()
    .regex(/^[0-9A-Za-z][0-9A-Za-z.+_-]*$/)
    .max(MAX_APP_VERSION_CHARS),
};

export const feedbackRecordSchema = z.discriminatedUnion('verdict', [
  z.strictObject({
    ...baseFields,
    verdict: z.literal('correct'),
    predicted: labelLineSchema,
  }),
  z
    .strictObject({
      ...baseFields,
      verdict: z.literal('corrected'),
      /** The right label line of the same model. */
      correctedLabel: labelLineSchema,
    })
    .refine((record) => record.correctedLabel !== record.predicted, {
      message: 'is the predicted label; use the verdict "correct"',
      path: ['correctedLabel'],
    }),
  z.strictObject({ ...baseFields, verdict: z.literal('not-an-animal') }),
  z.strictObject({
    ...baseFields,
    verdict: z.literal('unknown-species'),
    freeTextName: freeTextNameSchema.optional(),
  }),
]);

export const feedbackBatchSchema = z.strictObject({
  records: z.array(feedbackRecordSchema).min(1).max(MAX_BATCH_RECORDS),
});

export const FEEDBACK_STATUSES = ['accepted', 'duplicate', 'rejected'] as const;

export const feedbackResultSchema = z.strictObject({
  id: z.string(),
  status: z.enum(FEEDBACK_STATUSES),
  /** Why a record was rejected: one of the error codes (`errors.ts`). */
  code: z.string().optional(),
});

/** One result per record, in request order. */
export const feedbackReplySchema = z.strictObject({
  results: z.array(feedbackResultSchema),
});

export const errorBodySchema = z.strictObject({
  error: z.strictObject({
    code: z.string(),
    message: z.string(),
    /** Which field was wrong, for a request that failed validation. */
    detail: z.string().optional(),
  }),
});

/** One line of the NDJSON export, in insertion order; `seq` is the cursor for `?since=`. */
export const feedbackExportLineSchema = z.strictObject({
  seq: z.number().int().positive(),
  hasPhoto: z.boolean(),
  /** `photo` is present only when the export asked for photos (`?photos=1`). */
  record: feedbackRecordSchema,
});

export type FeedbackVerdict = FeedbackRecord['verdict'];
export type FeedbackRecord = z.infer<typeof feedbackRecordSchema>;
/** What a client builds, before the schema's normalisation. */
export type FeedbackRecordInput = z.input<typeof feedbackRecordSchema>;
export type FeedbackBatch = z.infer<typeof feedbackBatchSchema>;
export type FeedbackStatus = (typeof FEEDBACK_STATUSES)[number];
export type FeedbackResult = z.infer<typeof feedbackResultSchema>;
export type FeedbackReply = z.infer<typeof feedbackReplySchema>;
export type ErrorBody = z.infer<typeof errorBodySchema>;
export type FeedbackExportLine = z.infer<typeof feedbackExportLineSchema>;

/** The labels the server knows, per model version (read from each labels.txt at start-up). */
export interface LabelIndex {
  /** The label lines of this exact model version, or null when the version is unknown. */
  labels(modelId: string, version: string): ReadonlySet<string> | null;
}

/**
 * The checks the schema cannot make alone: the model version and its labels must be known,
 * a free-text name must not read as a spreadsheet formula. Returns the code of the first
 * problem, or null for a record the server may store.
 */
export function feedbackRecordProblem(record: FeedbackRecord, index: LabelIndex): ErrorCode | null {
  if (record.verdict === 'unknown-species' && record.freeTextName !== undefined) {
    if (FORMULA_START.test(record.freeTextName)) return 'FORMULA_NOT_ALLOWED';
  }
  const labels = index.labels(record.model.id, record.model.version);
  if (labels === null) return 'UNKNOWN_MODEL';
  const used = [
    record.predicted,
    record.verdict === 'corrected' ? record.correctedLabel : null,
    ...(record.top ?? []).map((prediction) => prediction.label),
  ];
  if (used.some((label) => label !== null && !labels.has(label))) return 'UNKNOWN_LABEL';
  return null;
}

/**
 * Deterministic JSON (object keys sorted at every level) of a parsed record: two requests
 * carry "the same payload" when their canonical forms are equal, however the client
 * ordered its keys or spaced its JSON.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const MAX_DETAIL_CHARS = 200;
const MAX_ISSUES_SHOWN = 3;

/**
 * A short, path-level reason for a failed validation ("records.3.day: must be YYYY-MM-DD"),
 * safe to send back: it never echoes the input's values (unknown key names are cut short).
 */
export function describeIssues(error: z.ZodError): string {
  // One issue per path: the first says enough.
  const seen = new Set<string>();
  const issues = error.issues.filter((issue) => {
    const key = issue.path.map(String).join('.');
    return !seen.has(key) && seen.add(key);
  });
  const parts = issues.slice(0, MAX_ISSUES_SHOWN).map((issue) => {
    const path = issue.path.map(String).join('.') || '(body)';
    const keys =
      issue.code === 'unrecognized_keys'
        ? `unknown key ${issue.keys.map((key) => JSON.stringify(key.slice(0, 40))).join(', ')}`
        : null;
    return `${path}: ${keys ?? issue.message}`;
  });
  const more = issues.length > MAX_ISSUES_SHOWN ? ' …' : '';
  const text = parts.join('; ') + more;
  return text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS - 1)}…` : text;
}
