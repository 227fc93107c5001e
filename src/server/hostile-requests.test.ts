import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytes, png, segment } from '../core/image-sniff.fixtures';
import {
  exifGpsApp1,
  exifGpsTiff,
  iccSegments,
  jfifWithThumbnail,
  realProfile,
  withExtraTag,
  withSegmentsAfterSoi,
} from '../core/photo-policy.fixtures';
import {
  buildTestApp,
  cleanPhoto,
  makeRecord,
  testModel,
  type TestApp,
} from '../../test-support/feedback';
import { expectSecurityHeaders } from '../../test-support/helpers';
import { STORE_KINDS } from '../../test-support/stores';

/**
 * Requests an attacker, a fuzzer or a broken client sends. Each must get a 4xx with an
 * error code (a 422 lists one per record), never a 5xx (in the reply or the log), and
 * leave nothing in the database.
 */

type Body = string | Buffer | ((r: Builders) => unknown);
interface Builders {
  record(overrides?: Record<string, unknown>): Record<string, unknown>;
  batch(...records: unknown[]): unknown;
  /** A clean photo as the client sends it (sharp writes no APP0, so SOI is followed by DQT). */
  photo: Buffer;
  /** A real sRGB profile, as encoders embed it. */
  profile: Uint8Array;
}
interface Hostile {
  name: string;
  body: Body;
  headers?: Record<string, string>;
  method?: InjectOptions['method'];
  status: number;
  code: string;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const deep = (depth: number, inner = '1') => '['.repeat(depth) + inner + ']'.repeat(depth);
const nested = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const unknownSpecies = (name: unknown) => ({
  verdict: 'unknown-species',
  correctedLabel: undefined,
  freeTextName: name,
});
/** A batch of one record whose photo is the clean photo with `segments` right after SOI. */
const photoWith =
  (...segments: ((r: Builders) => Uint8Array)[]) =>
  (r: Builders) =>
    r.batch(
      r.record({
        photo: Buffer.from(
          withSegmentsAfterSoi(r.photo, ...segments.map((build) => build(r))),
        ).toString('base64'),
      }),
    );
const photoOf = (build: (r: Builders) => Uint8Array) => (r: Builders) =>
  r.batch(r.record({ photo: Buffer.from(build(r)).toString('base64') }));
const iccOf = (build: (r: Builders) => Uint8Array) => (r: Builders) =>
  bytes(...iccSegments(build(r)));

const CORPUS: Hostile[] = [
  // Not JSON, or not the JSON we take.
  { name: 'cut-off JSON', body: '{"records": [', status: 400, code: 'VALIDATION_FAILED' },
  { name: 'not JSON at all', body: 'records=1&x=2', status: 400, code: 'VALIDATION_FAILED' },
  { name: 'empty body', body: '', status: 400, code: 'VALIDATION_FAILED' },
  { name: 'trailing garbage', body: '{"records": []} xyz', status: 400, code: 'VALIDATION_FAILED' },
  {
    name: 'JSON with a BOM',
    body: '\ufeff{"records": []}',
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  { name: 'null', body: 'null', status: 400, code: 'VALIDATION_FAILED' },
  {
    name: 'a bare array of records',
    body: (r) => [r.record()],
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  { name: 'a string', body: '"records"', status: 400, code: 'VALIDATION_FAILED' },
  { name: 'a number', body: '42', status: 400, code: 'VALIDATION_FAILED' },
  // Wrong shapes and types.
  { name: 'no records key', body: '{}', status: 400, code: 'VALIDATION_FAILED' },
  { name: 'records: null', body: '{"records": null}', status: 400, code: 'VALIDATION_FAILED' },
  {
    name: 'records: object',
    body: '{"records": {"0": {}}}',
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  { name: 'records: [null]', body: '{"records": [null]}', status: 400, code: 'VALIDATION_FAILED' },
  { name: 'records: [1]', body: '{"records": [1]}', status: 400, code: 'VALIDATION_FAILED' },
  { name: 'an empty record', body: '{"records": [{}]}', status: 400, code: 'VALIDATION_FAILED' },
  {
    name: 'missing id',
    body: (r) => r.batch(r.record({ id: undefined })),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'missing model',
    body: (r) => r.batch(r.record({ model: undefined })),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'missing verdict',
    body: (r) => r.batch(r.record({ verdict: undefined })),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'missing day',
    body: (r) => r.batch(r.record({ day: undefined })),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'id as a number',
    body: (r) => r.batch(r.record({ id: 12345 })),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'upper-case UUID',
    body: (r) => r.batch(r.record({ id: 'AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE' })),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'SQL in the id',
    body: (r) => r.batch(r.record({ id: "1'; DROP TABLE feedback; --" })),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'probability as a string',
    body: (r) => r.batch(r.record({ top: [{ label: 'x', probability: '0.5' }] })),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'infinite probability',
    body: (r) =>
      JSON.stringify(r.batch(r.record())).replace('"probability":0.55', '"probability":1e400'),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'top as an object',
    body: (r) => r.batch(r.record({ top: { label: 'x' } })),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'day with a time (privacy)',
    body: (r) => r.batch(r.record({ day: '2026-05-01T08:30:00Z' })),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a location (privacy)',
    body: (r) => r.batch(r.record({ location: { lat: 52.5, lon: 13.4 } })),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a device id (privacy)',
    body: (r) => r.batch(r.record({ deviceId: 'abc' })),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an unknown top-level key',
    body: (r) => ({ ...(r.batch(r.record()) as object), ip: '1.2.3.4' }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a repeated key (last wins)',
    body: (r) => `{"records": ${JSON.stringify([r.record()])}, "records": "x"}`,
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'corrected without a label',
    body: (r) => r.batch(r.record({ correctedLabel: undefined })),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  // Sizes.
  { name: 'no record', body: '{"records": []}', status: 400, code: 'VALIDATION_FAILED' },
  {
    name: '101 records',
    body: (r) => r.batch(...Array.from({ length: 101 }, () => r.record())),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: '5,000 records',
    body: (r) => r.batch(...Array.from({ length: 5000 }, () => r.record())),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a 1 MB label',
    body: (r) => r.batch(r.record({ correctedLabel: 'x'.repeat(1 << 20) })),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a 100 kB free-text name',
    body: (r) => r.batch(r.record(unknownSpecies('y'.repeat(100_000)))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a 4 MB app version',
    body: (r) => r.batch(r.record({ appVersion: 'v'.repeat(4 << 20) })),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a body over the limit',
    body: (r) => r.batch(r.record({ appVersion: 'v'.repeat(6 << 20) })),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'a 40 kB key',
    body: (r) => r.batch(r.record({ ['k'.repeat(40_000)]: 1 })),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  // Deep nesting.
  {
    name: '100,000 nested arrays as records',
    body: `{"records": ${deep(100_000)}}`,
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: '100,000 nested objects in an unknown key',
    body: (r) => `{"records": ${JSON.stringify([r.record()])}, "x": ${nested(100_000)}}`,
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'nested arrays in top',
    body: (r) => JSON.stringify(r.batch(r.record())).replace('"top":[', `"top":[${deep(10_000)},`),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  // Prototype pollution.
  {
    name: '__proto__ at the top',
    body: (r) => `{"__proto__": {"polluted": true}, "records": ${JSON.stringify([r.record()])}}`,
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: '__proto__ in a record',
    body: (r) =>
      `{"records": [{"__proto__": {"polluted": true}, ${JSON.stringify(r.record()).slice(1)}]}`,
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: '__proto__ in the model',
    body: (r) =>
      JSON.stringify(r.batch(r.record())).replace('"model":{', '"model":{"__proto__":{"id":"x"},'),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'constructor.prototype in a record',
    body: (r) =>
      `{"records": [{"constructor": {"prototype": {"polluted": true}}, ${JSON.stringify(r.record()).slice(1)}]}`,
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a plain constructor key',
    body: (r) => r.batch(r.record({ constructor: 'x' })),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  // Bad unicode and control characters.
  {
    name: 'a lone surrogate in the name',
    body: (r) =>
      JSON.stringify(r.batch(r.record(unknownSpecies('NAME')))).replace('NAME', 'x\\ud800y'),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a lone surrogate in a label',
    body: (r) =>
      JSON.stringify(r.batch(r.record({ correctedLabel: 'LABEL' }))).replace('LABEL', '\\udfff'),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'invalid UTF-8 bytes in the name',
    body: (r) =>
      Buffer.concat([
        Buffer.from(
          JSON.stringify(r.batch(r.record(unknownSpecies('NAME')))).split('NAME')[0] ?? '',
        ),
        Buffer.from([0xc3, 0x28, 0xff, 0xfe]),
        Buffer.from(
          JSON.stringify(r.batch(r.record(unknownSpecies('NAME')))).split('NAME')[1] ?? '',
        ),
      ]),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a NUL in the name',
    body: (r) => r.batch(r.record(unknownSpecies('a\u0000b'))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a right-to-left override in the name',
    body: (r) => r.batch(r.record(unknownSpecies('\u202egpj.exe'))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a line separator in the name',
    body: (r) => r.batch(r.record(unknownSpecies('Great\u2028tit'))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a paragraph separator in the name',
    body: (r) => r.batch(r.record(unknownSpecies('Great\u2029tit'))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'tag characters in the name',
    body: (r) => r.batch(r.record(unknownSpecies('robin\u{e0069}\u{e0067}\u{e006e}'))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a right-to-left mark in the name',
    body: (r) => r.batch(r.record(unknownSpecies('robin\u200f'))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an Arabic letter mark in the name',
    body: (r) => r.batch(r.record(unknownSpecies('robin\u061c'))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a noncharacter in the name',
    body: (r) => r.batch(r.record(unknownSpecies('robin\ufdd0'))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'U+FFFE in the name',
    body: (r) => r.batch(r.record(unknownSpecies('robin\ufffe'))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a private-use character in the name',
    body: (r) => r.batch(r.record(unknownSpecies('robin\ue000'))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a Hangul filler (U+3164) in the name',
    body: (r) => r.batch(r.record(unknownSpecies('rob\u3164in'))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a Hangul choseong filler (U+115F) in the name',
    body: (r) => r.batch(r.record(unknownSpecies('robin\u115f'))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a Hangul jungseong filler (U+1160) in the name',
    body: (r) => r.batch(r.record(unknownSpecies('robin\u1160'))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a halfwidth Hangul filler (U+FFA0) in the name',
    body: (r) => r.batch(r.record(unknownSpecies('robin\uffa0'))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a name of Hangul fillers only',
    body: (r) => r.batch(r.record(unknownSpecies('\u3164\u3164\u3164'))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a combining grapheme joiner in the name',
    body: (r) => r.batch(r.record(unknownSpecies('rob\u034fin'))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a variation selector (VS1) in the name',
    body: (r) => r.batch(r.record(unknownSpecies('robin\ufe00'))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'supplementary variation selectors (hidden bytes) in the name',
    body: (r) =>
      r.batch(r.record(unknownSpecies('robin\u{e0168}\u{e0165}\u{e016c}\u{e016c}\u{e016f}'))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a run of VS16 in the name',
    body: (r) => r.batch(r.record(unknownSpecies('robin\ufe0f\ufe0f\ufe0f\ufe0f'))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a run of joiners in the name',
    body: (r) => r.batch(r.record(unknownSpecies('robin\u200d\u200c\u200d\u200c'))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a braille blank in the name',
    body: (r) => r.batch(r.record(unknownSpecies('rob\u2800in'))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a name of braille blanks only',
    body: (r) => r.batch(r.record(unknownSpecies('\u2800\u2800\u2800'))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a name of punctuation only',
    body: (r) => r.batch(r.record(unknownSpecies('.-.'))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a name of combining marks only',
    body: (r) => r.batch(r.record(unknownSpecies('\u0301\u0308'))),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a variation selector in a label',
    body: (r) => r.batch(r.record({ correctedLabel: 'Turdus migratorius\ufe00(American Robin)' })),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a line separator in a label',
    body: (r) => r.batch(r.record({ correctedLabel: 'Turdus migratorius\u2028(American Robin)' })),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  // Spreadsheet formulas (valid shape, refused per record: 422).
  {
    name: 'formula =',
    body: (r) => r.batch(r.record(unknownSpecies('=1+1'))),
    status: 422,
    code: 'FORMULA_NOT_ALLOWED',
  },
  {
    name: 'formula + after spaces',
    body: (r) => r.batch(r.record(unknownSpecies('   +cmd|"/C calc"!A0'))),
    status: 422,
    code: 'FORMULA_NOT_ALLOWED',
  },
  {
    name: 'formula -',
    body: (r) => r.batch(r.record(unknownSpecies('-2+3'))),
    status: 422,
    code: 'FORMULA_NOT_ALLOWED',
  },
  {
    name: 'formula @',
    body: (r) => r.batch(r.record(unknownSpecies('@SUM(A1:A9)'))),
    status: 422,
    code: 'FORMULA_NOT_ALLOWED',
  },
  {
    name: 'formula fullwidth ＝',
    body: (r) => r.batch(r.record(unknownSpecies('＝1+1'))),
    status: 422,
    code: 'FORMULA_NOT_ALLOWED',
  },
  {
    name: 'formula fullwidth ＋',
    body: (r) => r.batch(r.record(unknownSpecies('＋cmd'))),
    status: 422,
    code: 'FORMULA_NOT_ALLOWED',
  },
  {
    name: 'formula fullwidth －',
    body: (r) => r.batch(r.record(unknownSpecies('－2+3'))),
    status: 422,
    code: 'FORMULA_NOT_ALLOWED',
  },
  {
    name: 'formula fullwidth ＠',
    body: (r) => r.batch(r.record(unknownSpecies('＠SUM(A1:A9)'))),
    status: 422,
    code: 'FORMULA_NOT_ALLOWED',
  },
  {
    name: 'a formula as a label',
    body: (r) => r.batch(r.record({ correctedLabel: '=HYPERLINK("https://evil.example")' })),
    status: 422,
    code: 'UNKNOWN_LABEL',
  },
  {
    name: 'a label of another model',
    body: (r) => r.batch(r.record({ correctedLabel: 'tabby, tabby cat' })),
    status: 422,
    code: 'UNKNOWN_LABEL',
  },
  // Labels and candidates that no model output could give.
  {
    name: 'background as the corrected label',
    body: (r) => r.batch(r.record({ correctedLabel: 'background' })),
    status: 422,
    code: 'UNKNOWN_LABEL',
  },
  {
    name: 'background as the predicted label',
    body: (r) => r.batch(r.record({ predicted: 'background' })),
    status: 422,
    code: 'UNKNOWN_LABEL',
  },
  {
    name: 'top probabilities adding up to more than 1',
    body: (r) => {
      const record = r.record();
      const top = (record.top as { label: string }[]).map(({ label }) => ({
        label,
        probability: 0.5,
      }));
      return r.batch({ ...record, top });
    },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a label repeated in the top list',
    body: (r) => {
      const record = r.record();
      const [first] = record.top as unknown[];
      return r.batch({ ...record, top: [first, first] });
    },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an unknown model version',
    body: (r) =>
      r.batch(r.record({ model: { id: 'inat-birds-mobilenet-v2', version: 'deadbeef00' } })),
    status: 422,
    code: 'UNKNOWN_MODEL',
  },
  // Photos.
  {
    name: 'garbage base64',
    body: (r) => r.batch(r.record({ photo: '!!!not-base64!!!' })),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'base64 without padding',
    body: (r) => r.batch(r.record({ photo: r.photo.toString('base64').replace(/=+$/, '') + 'A' })),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'base64 with line breaks',
    body: (r) =>
      r.batch(r.record({ photo: r.photo.toString('base64').replace(/(.{76})/g, '$1\n') })),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a photo as a data: URL',
    body: (r) =>
      r.batch(r.record({ photo: `data:image/jpeg;base64,${r.photo.toString('base64')}` })),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a photo over the size limit',
    body: (r) => r.batch(r.record({ photo: Buffer.alloc(300_000, 7).toString('base64') })),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'base64 of text',
    body: (r) => r.batch(r.record({ photo: Buffer.from('hello, world').toString('base64') })),
    status: 422,
    code: 'NOT_AN_IMAGE',
  },
  {
    name: 'a PNG photo',
    body: (r) => r.batch(r.record({ photo: Buffer.from(png(64, 64)).toString('base64') })),
    status: 422,
    code: 'UNSUPPORTED_FORMAT',
  },
  {
    name: 'a JPEG with EXIF GPS',
    body: (r) =>
      r.batch(
        r.record({
          photo: Buffer.from(withSegmentsAfterSoi(r.photo, exifGpsApp1())).toString('base64'),
        }),
      ),
    status: 422,
    code: 'PHOTO_HAS_METADATA',
  },
  {
    name: 'base64 with padding bits set (a second spelling of the same bytes)',
    body: (r) => {
      // 3 × 256 + 2 bytes: the base64 ends in one data digit and "==", 4 bits to spare.
      const photo = r.photo.subarray(0, 770).toString('base64');
      const digit = photo.at(-3) ?? 'A';
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      const spare = alphabet[alphabet.indexOf(digit) + 1] ?? 'B';
      return r.batch(r.record({ photo: `${photo.slice(0, -3)}${spare}==` }));
    },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an ICC segment that is an Exif GPS block',
    body: photoWith(() => segment(0xe2, 'ICC_PROFILE\0', [1, 1], exifGpsTiff())),
    status: 422,
    code: 'PHOTO_HAS_METADATA',
  },
  {
    name: 'a real profile with a GPS block appended',
    body: photoWith(iccOf((r) => bytes(r.profile, exifGpsTiff()))),
    status: 422,
    code: 'PHOTO_HAS_METADATA',
  },
  {
    name: 'a real profile with a GPS block in a private tag',
    body: photoWith(iccOf((r) => withExtraTag(r.profile, 'zzzz', 'text', exifGpsTiff()))),
    status: 422,
    code: 'PHOTO_HAS_METADATA',
  },
  {
    name: 'JFIF with Exif appended',
    body: photoWith(() => segment(0xe0, 'JFIF\0', [1, 1, 0, 0, 1, 0, 1, 0, 0], exifGpsApp1())),
    status: 422,
    code: 'PHOTO_HAS_METADATA',
  },
  {
    name: 'JFIF with a thumbnail',
    body: photoWith(() => jfifWithThumbnail()),
    status: 422,
    code: 'PHOTO_HAS_METADATA',
  },
  {
    name: 'Adobe with text appended',
    body: photoWith(() => segment(0xee, 'Adobe', [0, 100, 0, 0, 0, 0, 1], 'at 52.52N 13.40E')),
    status: 422,
    code: 'PHOTO_HAS_METADATA',
  },
  {
    name: 'a comment segment',
    body: photoWith(() => segment(0xfe, 'shot in our garden')),
    status: 422,
    code: 'PHOTO_HAS_METADATA',
  },
  {
    name: 'a JPG0 (0xF0) segment carrying Exif',
    body: photoWith(() => segment(0xf0, exifGpsApp1())),
    status: 422,
    code: 'UNSUPPORTED_FORMAT',
  },
  {
    name: 'a JPG13 (0xFD) segment carrying Exif',
    body: photoWith(() => segment(0xfd, exifGpsApp1())),
    status: 422,
    code: 'UNSUPPORTED_FORMAT',
  },
  {
    name: 'a JPG (0xC8) segment carrying Exif',
    body: photoWith(() => segment(0xc8, exifGpsApp1())),
    status: 422,
    code: 'UNSUPPORTED_FORMAT',
  },
  {
    name: 'a JPEG cut inside its scan and closed with EOI',
    body: photoOf((r) => bytes(r.photo.subarray(0, 2000), [0xff, 0xd9])),
    status: 422,
    code: 'DECODE_FAILED',
  },
  {
    name: 'a frame taller than its scan data',
    body: photoOf((r) => {
      const photo = Buffer.from(r.photo);
      const heightAt = photo.indexOf(Buffer.from([0xff, 0xc0])) + 5;
      photo.writeUInt16BE(photo.readUInt16BE(heightAt) + 100, heightAt);
      return photo;
    }),
    status: 422,
    code: 'DECODE_FAILED',
  },
  {
    name: 'a cut-off JPEG',
    body: (r) => r.batch(r.record({ photo: r.photo.subarray(0, 2000).toString('base64') })),
    status: 422,
    code: 'TRUNCATED',
  },
  // Wrong content types and methods.
  {
    name: 'text/plain',
    body: (r) => r.batch(r.record()),
    headers: { 'content-type': 'text/plain' },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'no content type',
    body: (r) => r.batch(r.record()),
    headers: { 'content-type': '' },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'a form',
    body: 'records=1',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'multipart',
    body: '--x\r\n\r\n--x--',
    headers: { 'content-type': 'multipart/form-data; boundary=x' },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'JSON in Latin-1',
    body: (r) => r.batch(r.record()),
    headers: { 'content-type': 'application/json; charset=iso-8859-1' },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'a JSON look-alike type',
    body: (r) => r.batch(r.record()),
    headers: { 'content-type': 'application/json-patch+json' },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  { name: 'GET', body: '', method: 'GET', status: 404, code: 'NOT_FOUND' },
  { name: 'PUT', body: (r) => r.batch(r.record()), method: 'PUT', status: 404, code: 'NOT_FOUND' },
];

describe.each(STORE_KINDS)('hostile requests on %s', (kind) => {
  let t: TestApp;
  let builders: Builders;
  const logLines: string[] = [];
  beforeAll(async () => {
    t = await buildTestApp(kind, { logStream: { write: (line) => logLines.push(line) } });
    const model = await testModel();
    builders = {
      record: (overrides = {}) => makeRecord(model, overrides) as Record<string, unknown>,
      batch: (...records) => ({ records }),
      photo: await cleanPhoto(),
      profile: await realProfile(),
    };
  });
  afterAll(() => t.close());

  it('has at least 100 of them', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(100);
    expect(new Set(CORPUS.map((h) => h.name)).size).toBe(CORPUS.length);
  });

  it.each(CORPUS)('$name → $status $code', async (hostile) => {
    const built = typeof hostile.body === 'function' ? hostile.body(builders) : hostile.body;
    const payload =
      typeof built === 'string' || Buffer.isBuffer(built) ? built : JSON.stringify(built);
    logLines.length = 0;
    const res = await t.app.inject({
      method: hostile.method ?? 'POST',
      url: '/api/v1/feedback',
      headers: { ...JSON_TYPE, accept: 'application/json', ...hostile.headers },
      ...(hostile.method === 'GET' ? {} : { payload }),
    });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(hostile.status);
    const body = res.json();
    if (res.statusCode === 422) {
      expect(body.results.map((r: { code?: string }) => r.code)).toEqual([hostile.code]);
    } else {
      expect(body.error.code).toBe(hostile.code);
      expect(typeof body.error.message).toBe('string');
    }
    // Refusals from Fastify itself (bad JSON, too large, wrong type) included.
    expectSecurityHeaders(res.headers);
    expect(serverErrorsIn(logLines)).toEqual([]);
    expect(await t.store.count()).toBe(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('stored nothing, and still takes a good record afterwards', async () => {
    expect(await t.store.count()).toBe(0);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/feedback',
      headers: JSON_TYPE,
      payload: JSON.stringify(builders.batch(builders.record())),
    });
    expect(res.statusCode).toBe(200);
    expect(await t.store.count()).toBe(1);
  });
});

/** Log lines of a 5xx reply or at error level or above (pino: 50 error, 60 fatal). */
function serverErrorsIn(lines: readonly string[]): string[] {
  return lines.filter((line) => {
    const entry = JSON.parse(line) as { level?: number; res?: { statusCode?: number } };
    return (entry.level ?? 0) >= 50 || (entry.res?.statusCode ?? 0) >= 500;
  });
}
