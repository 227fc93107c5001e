import { z } from 'zod';
import { DEFAULT_TOP_K } from './answer';
import type { ErrorCode } from './errors';
import { BACKGROUND_LABEL_LINE } from './model-catalog';

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

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Whether the bits left over before the `=` padding are zero, as every encoder writes
 * them. Decoders ignore those bits, so without this rule one photo has four (or sixteen)
 * spellings, with different payload hashes: a resend spelled differently would read as a
 * conflict. For text the schema already took as base64.
 */
function hasZeroPaddingBits(base64: string): boolean {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  if (padding === 0) return true;
  const lastDigit = BASE64_ALPHABET.indexOf(base64.charAt(base64.length - padding - 1));
  const unusedBits = padding === 2 ? 4 : 2;
  return lastDigit % 2 ** unusedBits === 0;
}

// Lower case only: the id is compared as text, and `crypto.randomUUID()` writes lower case.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
/**
 * What a name or label never needs, and what can hide or disguise text: control
 * characters; line and paragraph separators (U+2028/2029 end a line for some JSON and log
 * readers); invisible format characters, among them every bidi mark and control (LRM,
 * RLM, ALM, embeddings, overrides, isolates), word joiners, the BOM, interlinear
 * annotations and the tag characters (U+E0000–E007F, which spell hidden ASCII); every
 * other default-ignorable character, which renderers draw as nothing: the combining
 * grapheme joiner, the Hangul fillers (letters by category, blanks on screen) and the
 * variation selectors, which like the tag characters can carry hidden bytes (256 of
 * them, one byte each); the braille blank (a symbol that looks like a space); private-use
 * characters (no agreed meaning); noncharacters; lone surrogates; and U+FFFD (a decoding
 * failure upstream). ZWNJ and ZWJ stay: Persian, the Indic scripts and emoji need them;
 * so do VS15 and VS16 (text or emoji presentation). But not two joiners or two selectors
 * in a row, a selector after a joiner, or either first: no script or emoji sequence puts
 * them there, and runs of them would carry hidden bits.
 */
const UNSAFE_TEXT =
  /[\p{Cc}\p{Zl}\p{Zp}\p{Co}\p{Cs}\p{Noncharacter_Code_Point}\u{e0000}-\u{e007f}\ufffd\u2800]|(?![\ufe0e-\ufe0f\u200c-\u200d])[\p{Cf}\p{Default_Ignorable_Code_Point}]|[\u200c-\u200d][\ufe0e-\ufe0f\u200c-\u200d]|[\ufe0e-\ufe0f]{2}|^[\ufe0e-\ufe0f\u200c-\u200d]/u;
const UNSAFE_TEXT_MESSAGE = 'contains control, invisible or invalid characters';
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
  .refine((text) => !UNSAFE_TEXT.test(text), UNSAFE_TEXT_MESSAGE);

export const modelRefSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/),
  version: z.string().regex(/^[0-9a-zA-Z.+-]{1,64}$/),
});

export const topPredictionSchema = z.strictObject({
  label: labelLineSchema,
  probability: z.number().min(0).max(1),
});

/**
 * How far the shown probabilities may add up beyond 1. They are float32 softmax outputs:
 * over about 1,000 classes the total is off by at most n × 2^-24 (about 6e-5); a client
 * that rounds the five values to three decimals adds up to 5 × 0.0005 more. Any sum past
 * this is no rounding: the list claims more than the whole.
 */
export const PROBABILITY_SUM_TOLERANCE = 0.005;

/** The candidates the user was shown: distinct labels, probabilities of one distribution. */
export const topPredictionsSchema = z
  .array(topPredictionSchema)
  .max(MAX_TOP)
  .refine((top) => new Set(top.map((p) => p.label)).size === top.length, 'repeats a label')
  .refine(
    (top) => top.reduce((sum, p) => sum + p.probability, 0) <= 1 + PROBABILITY_SUM_TOLERANCE,
    'probabilities add up to more than 1',
  );

/** What the user typed for "Other / unknown species": NFC, trimmed, one line of plain text. */
export const freeTextNameSchema = z
  .string()
  .max(MAX_RAW_FREE_TEXT_CHARS)
  .normalize('NFC')
  .trim()
  .min(1)
  .max(MAX_FREE_TEXT_CHARS)
  .refine((text) => !UNSAFE_TEXT.test(text), { message: UNSAFE_TEXT_MESSAGE, abort: true })
  // Punctuation, marks or emoji alone name nothing, and may be what is left of invisible text.
  .refine((text) => /[\p{L}\p{N}]/u.test(text), 'has no letter or digit');

/** Made by the client (`crypto.randomUUID()`); the idempotency key of a record. */
export const recordIdSchema = z.string().regex(UUID, 'must be a lower-case UUID');

/** A local day; never a time of day. */
export const daySchema = z
  .string()
  .regex(DAY, { message: 'must be YYYY-MM-DD', abort: true })
  .refine(isRealDay, { message: 'is not a calendar day', abort: true })
  .refine((day) => day >= '2024-01-01', 'is before 2024');

export const appVersionSchema = z
  .string()
  .regex(/^[0-9A-Za-z][0-9A-Za-z.+_-]*$/)
  .max(MAX_APP_VERSION_CHARS);

const baseFields = {
  id: recordIdSchema,
  model: modelRefSchema,
  /** The top-1 label line shown to the user; null when the answer was "no animal" or "not sure". */
  predicted: labelLineSchema.nullable(),
  /** The user's local day of the verdict. */
  day: daySchema,
  /** Opt-in only: a JPEG of at most 512 px, with no metadata, as base64. */
  photo: z
    .base64()
    .min(1)
    .max(base64Chars(MAX_PHOTO_BYTES))
    .refine(hasZeroPaddingBits, 'must be canonical base64 (padding bits set)')
    .optional(),
  top: topPredictionsSchema.optional(),
  appVersion: appVersionSchema,
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
    if (isFormulaLike(record.freeTextName)) return 'FORMULA_NOT_ALLOWED';
  }
  const labels = index.labels(record.model.id, record.model.version);
  if (labels === null) return 'UNKNOWN_MODEL';
  const used = [
    record.predicted,
    record.verdict === 'corrected' ? record.correctedLabel : null,
    ...(record.top ?? []).map((prediction) => prediction.label),
  ];
  const isSpecies = (label: string) => labels.has(label) && label !== BACKGROUND_LABEL_LINE;
  if (used.some((label) => label !== null && !isSpecies(label))) return 'UNKNOWN_LABEL';
  return null;
}

/**
 * Whether text would start a spreadsheet formula: `= + - @`, also in their fullwidth and
 * small forms (＝, ﹢…), which some spreadsheets take as the same and which NFKC folds
 * into the ASCII ones.
 */
export function isFormulaLike(text: string): boolean {
  const first = text.codePointAt(0);
  return first !== undefined && FORMULA_START.test(String.fromCodePoint(first).normalize('NFKC'));
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
    return `{${entries.map(([k, v]) => `${jsonText(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return jsonText(value);
}

/** One NDJSON line (the export's format): canonical JSON, so no raw line separator inside. */
export function toNdjsonLine(value: unknown): string {
  return `${canonicalJson(value)}\n`;
}

/**
 * U+2028 and U+2029 may stand raw in a JSON string, and JSON.stringify leaves them so, but
 * line-based readers (and JavaScript before ES2019) end a line there: one export line would
 * read as two broken ones. Escaped, the JSON means the same. The schema refuses both
 * characters in every text field, so the canonical form (and payload hash) of any record
 * it accepts is the same as before this escape; only rows stored earlier export differently.
 */
function jsonText(value: unknown): string {
  return (JSON.stringify(value) ?? 'null').replace(/[\u2028\u2029]/g, (c) =>
    c === '\u2028' ? '\\u2028' : '\\u2029',
  );
}

const MAX_DETAIL_CHARS = 200;
const MAX_ISSUES_SHOWN = 3;
/**
 * The unknown body keys named back: a misspelt field ("freeTextname") is worth naming, and
 * one this plain can neither carry much nor read as anything but a name. The body reaches
 * only the client that sent it, as JSON, which a page of another site cannot send here
 * without the CORS check; any other key is counted, not quoted.
 */
const QUOTABLE_KEY = /^[A-Za-z_][A-Za-z0-9_-]{0,39}$/;

export interface DescribeOptions {
  /**
   * Where the input came from. Query keys are never named: the query is part of the URL,
   * which anyone can put in a link, and no error body quotes the URL.
   */
  source?: 'body' | 'query';
}

/**
 * A short, path-level reason for a failed validation ("records.3.day: must be YYYY-MM-DD"),
 * safe to send back: it never echoes the input's values, nor any key it does not know but
 * a plain body key name.
 */
export function describeIssues(
  error: z.ZodError,
  { source = 'body' }: DescribeOptions = {},
): string {
  // One issue per path: the first says enough.
  const seen = new Set<string>();
  const issues = error.issues.filter((issue) => {
    const key = issue.path.map(String).join('.');
    return !seen.has(key) && seen.add(key);
  });
  const parts = issues.slice(0, MAX_ISSUES_SHOWN).map((issue) => {
    const path = issue.path.map(String).join('.') || `(${source})`;
    return `${path}: ${issue.code === 'unrecognized_keys' ? unknownKeys(issue.keys, source) : issue.message}`;
  });
  const more = issues.length > MAX_ISSUES_SHOWN ? ' …' : '';
  const text = parts.join('; ') + more;
  return text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS - 1)}…` : text;
}

function unknownKeys(keys: readonly string[], source: 'body' | 'query'): string {
  const named = source === 'body' ? keys.filter((key) => QUOTABLE_KEY.test(key)) : [];
  const unnamed = keys.length - named.length;
  if (named.length === 0) return unnamed === 1 ? 'an unknown key' : `${unnamed} unknown keys`;
  const list = `unknown key${keys.length === 1 ? '' : 's'} ${named.map((key) => JSON.stringify(key)).join(', ')}`;
  return unnamed === 0 ? list : `${list} and ${unnamed} more`;
}
