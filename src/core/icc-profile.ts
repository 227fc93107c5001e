import { at, fourCc, hasAsciiAt, u32be } from './byte-readers';

/**
 * The colour profile a shared photo may carry (APP2 "ICC_PROFILE"), checked so that it is
 * a colour profile and nothing else. An APP2 segment is a container: after its identifier
 * any bytes fit, and an Exif block with a GPS position rides along as easily as a profile.
 *
 * "Parses as a profile" therefore means every byte is accounted for: the 128-byte header,
 * the tag table, and the data of the tags it lists, with at most the zero padding the
 * standard puts between elements. Only registered colour tags of registered colour types
 * are taken, so there is no private tag, raw-data tag (`data`, `ui08`…), date (`dtim`) or
 * free-form dictionary (`dict`, `meta`) to carry a block. What a profile says in its own
 * fields (a description, a copyright line) stays, as in any profile a browser writes;
 * the header's reserved bytes must be zero.
 */

/** "ICC_PROFILE\0", then the chunk's number (from 1) and the number of chunks. */
const CHUNK_IDENTIFIER = 'ICC_PROFILE\0';
const CHUNK_HEADER_BYTES = CHUNK_IDENTIFIER.length + 2;

export interface IccChunk {
  seq: number;
  count: number;
  data: Uint8Array;
}

/** A profile larger than one segment is split over several APP2 segments, in order. */
export function readIccChunk(payload: Uint8Array): IccChunk | null {
  if (!hasAsciiAt(payload, 0, CHUNK_IDENTIFIER) || payload.length <= CHUNK_HEADER_BYTES) {
    return null;
  }
  const seq = at(payload, CHUNK_IDENTIFIER.length);
  const count = at(payload, CHUNK_IDENTIFIER.length + 1);
  if (seq < 1 || seq > count) return null;
  return { seq, count, data: payload.subarray(CHUNK_HEADER_BYTES) };
}

const HEADER_BYTES = 128;
const TAG_ENTRY_BYTES = 12;
const RESERVED_HEADER = { start: 100, end: 128 };
const ELEMENT_ALIGNMENT = 4;
/** The display profiles encoders embed have about 10 to 20 tags. */
const MAX_TAGS = 64;
/** A tag's data starts with its type signature and four reserved bytes. */
const TAG_TYPE_BYTES = 8;

/** Display and colour-space profiles only: a camera or printer profile has no place here. */
const PROFILE_CLASSES = new Set(['mntr', 'spac']);
const COLOUR_SPACES = new Set(['RGB ', 'GRAY']);
const CONNECTION_SPACES = new Set(['XYZ ', 'Lab ']);
const PROFILE_VERSIONS = new Set([2, 4]);

/** Registered tags (ICC.1:2010 and its v2 predecessor) that describe colour or the profile. */
const COLOUR_TAGS = new Set([
  'desc', 'cprt', 'dmnd', 'dmdd', 'tech', 'vued', 'view', 'meas', 'lumi', 'chad', 'chrm',
  'wtpt', 'bkpt', 'rXYZ', 'gXYZ', 'bXYZ', 'rTRC', 'gTRC', 'bTRC', 'kTRC', 'gamt', 'cicp',
  'A2B0', 'A2B1', 'A2B2', 'B2A0', 'B2A1', 'B2A2', 'clro', 'clrt', 'rig0', 'ciis',
]); // prettier-ignore

/** Registered types those tags use; raw arrays, dates and dictionaries are left out. */
const COLOUR_TYPES = new Set([
  'XYZ ', 'curv', 'para', 'sf32', 'desc', 'text', 'mluc', 'mft1', 'mft2', 'mAB ', 'mBA ',
  'meas', 'view', 'sig ', 'chrm', 'cicp', 'clro', 'clrt',
]); // prettier-ignore

interface Element {
  offset: number;
  size: number;
}

/** Whether `profile` (the chunks joined) is a plain colour profile, every byte accounted for. */
export function isPlainColourProfile(profile: Uint8Array): boolean {
  const length = profile.length;
  const tagCount = u32be(profile, HEADER_BYTES);
  const tableEnd = HEADER_BYTES + 4 + TAG_ENTRY_BYTES * tagCount;
  if (length < HEADER_BYTES + 4 || u32be(profile, 0) !== length) return false;
  if (!hasAsciiAt(profile, 36, 'acsp') || !PROFILE_VERSIONS.has(at(profile, 8))) return false;
  if (!PROFILE_CLASSES.has(fourCc(profile, 12)) || !COLOUR_SPACES.has(fourCc(profile, 16))) {
    return false;
  }
  if (!CONNECTION_SPACES.has(fourCc(profile, 20))) return false;
  if (!isZero(profile, RESERVED_HEADER.start, RESERVED_HEADER.end)) return false;
  if (tagCount < 1 || tagCount > MAX_TAGS || tableEnd > length) return false;

  const signatures = new Set<string>();
  const elements: Element[] = [];
  for (let entry = HEADER_BYTES + 4; entry < tableEnd; entry += TAG_ENTRY_BYTES) {
    const signature = fourCc(profile, entry);
    const element = { offset: u32be(profile, entry + 4), size: u32be(profile, entry + 8) };
    if (!COLOUR_TAGS.has(signature) || signatures.has(signature)) return false;
    signatures.add(signature);
    if (!isWellPlaced(element, tableEnd, length)) return false;
    if (!COLOUR_TYPES.has(fourCc(profile, element.offset))) return false;
    if (!isZero(profile, element.offset + 4, element.offset + TAG_TYPE_BYTES)) return false;
    elements.push(element);
  }
  return coversExactly(profile, tableEnd, elements);
}

function isWellPlaced({ offset, size }: Element, tableEnd: number, length: number): boolean {
  return (
    offset % ELEMENT_ALIGNMENT === 0 &&
    offset >= tableEnd &&
    size >= TAG_TYPE_BYTES &&
    offset + size <= length
  );
}

/**
 * The tag data, in offset order, tiles the rest of the profile: tags may share one element
 * (the three TRCs of an sRGB profile often do) but may not overlap otherwise, and the only
 * bytes between elements are the zero padding up to the next 4-byte boundary.
 */
function coversExactly(profile: Uint8Array, tableEnd: number, elements: Element[]): boolean {
  const sorted = [...elements].sort((a, b) => a.offset - b.offset || a.size - b.size);
  let covered = tableEnd;
  let previous: Element | null = null;
  for (const element of sorted) {
    if (previous && element.offset === previous.offset && element.size === previous.size) {
      continue;
    }
    if (!isPadding(profile, covered, element.offset)) return false;
    covered = element.offset + element.size;
    previous = element;
  }
  return isPadding(profile, covered, profile.length);
}

function isPadding(profile: Uint8Array, from: number, to: number): boolean {
  return to >= from && to - from < ELEMENT_ALIGNMENT && isZero(profile, from, to);
}

function isZero(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}
