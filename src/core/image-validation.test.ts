import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ErrorCode, Result, WarningCode } from './errors';
import {
  bytes,
  dqt,
  EOI,
  gif,
  heif,
  ispe,
  jpeg,
  png,
  SCAN_DATA,
  sof,
  SOI,
  sos,
  webpExtended,
} from './image-sniff.fixtures';
import sharp from 'sharp';
import {
  checkImageSize,
  DEFAULT_EXPOSURE_LIMITS,
  DEFAULT_IMAGE_LIMITS,
  exposureWarnings,
  isDecodableFormat,
  validateImageBytes,
  type DecodableFormat,
  type ValidImage,
} from './image-validation';
import { DATA_DIR } from '../node/shared-paths';
import { parseCsvRows } from '../node/csv';

type Outcome =
  | { ok: true; format: DecodableFormat; width: number; height: number; warnings: WarningCode[] }
  | { ok: false; code: ErrorCode };

function outcome(result: Result<ValidImage>): Outcome {
  return result.ok ? { ok: true, ...result.value } : { ok: false, code: result.error.code };
}

const accepted = (
  format: DecodableFormat,
  width: number,
  height: number,
  ...warnings: WarningCode[]
): Outcome => ({ ok: true, format, width, height, warnings });
const refused = (code: ErrorCode): Outcome => ({ ok: false, code });

const check = (b: Uint8Array, limits = {}) => outcome(validateImageBytes(b, limits));

describe('validateImageBytes: refusals', () => {
  it('refuses an empty file', () => {
    expect(check(new Uint8Array(0))).toEqual(refused('EMPTY_FILE'));
  });

  it('refuses more than maxBytes before looking inside', () => {
    const overDefault = new Uint8Array(DEFAULT_IMAGE_LIMITS.maxBytes + 1);
    expect(check(overDefault)).toEqual(refused('TOO_LARGE'));
    const b = jpeg(64, 64);
    expect(check(b, { maxBytes: b.length - 1 })).toEqual(refused('TOO_LARGE'));
    expect(check(b, { maxBytes: b.length }).ok).toBe(true);
    expect(check(overDefault, { maxBytes: undefined })).toEqual(refused('TOO_LARGE'));
  });

  it('refuses bytes that are no known image', () => {
    expect(check(bytes('This is plain text, not an image.\n'))).toEqual(refused('NOT_AN_IMAGE'));
    expect(check(Uint8Array.of(0xff, 0xd8))).toEqual(refused('NOT_AN_IMAGE'));
  });

  it('refuses HEIC and TIFF with advice on what to do instead', () => {
    const heic = validateImageBytes(heif(['heic', 'mif1'], ispe(4032, 3024)));
    expect(heic).toMatchObject({ ok: false, error: { code: 'UNSUPPORTED_FORMAT' } });
    expect(!heic.ok && heic.error.detail).toContain('Most Compatible');
    const tiff = validateImageBytes(bytes('II*\0', [8, 0, 0, 0, 0, 0]));
    expect(tiff).toMatchObject({ ok: false, error: { code: 'UNSUPPORTED_FORMAT' } });
    expect(!tiff.ok && tiff.error.detail).toMatch(/JPEG/);
  });

  it('refuses a decompression bomb from its header alone', () => {
    const bomb = png(40_000, 40_000);
    expect(bomb.length).toBeLessThan(100);
    expect(check(bomb)).toEqual(refused('TOO_MANY_PIXELS'));
    expect(check(jpeg(65_535, 65_535))).toEqual(refused('TOO_MANY_PIXELS'));
    expect(check(heif(['avif'], ispe(20_000, 10_000)))).toEqual(refused('TOO_MANY_PIXELS'));
    expect(check(png(10_000, 10_000))).toEqual(accepted('png', 10_000, 10_000));
    expect(check(png(100, 100), { maxPixels: 9_999 })).toEqual(refused('TOO_MANY_PIXELS'));
  });

  it('refuses a header cut before the size as truncated', () => {
    expect(check(png(64, 64).subarray(0, 20))).toEqual(refused('TRUNCATED'));
    expect(check(gif(64, 64).subarray(0, 8))).toEqual(refused('TRUNCATED'));
    expect(check(heif(['avif']).subarray(0, 40))).toEqual(refused('TRUNCATED'));
  });

  it('refuses a header that declares no pixels as undecodable', () => {
    expect(check(png(0, 480))).toEqual(refused('DECODE_FAILED'));
    expect(check(png(640, 0))).toEqual(refused('DECODE_FAILED'));
    // A JPEG height of 0 defers it to a DNL marker, which browser decoders do not support.
    expect(check(jpeg(640, 0))).toEqual(refused('DECODE_FAILED'));
  });

  it('refuses a JPEG cut inside its headers as truncated', () => {
    expect(check(bytes(SOI, dqt(), sof(640, 480)))).toEqual(refused('TRUNCATED'));
    expect(check(bytes(SOI, dqt()).subarray(0, 40))).toEqual(refused('TRUNCATED'));
  });

  it('refuses a JPEG with corrupt markers or no frame as undecodable', () => {
    const garbage = bytes(SOI, [0xff, 0xe0, 0x73, 0x10, 0x31, 0xfa, 0xd8, 0x92, 0x57]);
    expect(check(garbage)).toEqual(refused('DECODE_FAILED'));
    expect(check(bytes(SOI, dqt(), EOI))).toEqual(refused('DECODE_FAILED'));
    expect(check(bytes(SOI, sos(), SCAN_DATA, EOI))).toEqual(refused('DECODE_FAILED'));
  });
});

describe('validateImageBytes: warnings', () => {
  it('accepts a JPEG cut inside its scan data, with a warning', () => {
    const b = jpeg(640, 480);
    expect(check(b.subarray(0, b.length - 3))).toEqual(accepted('jpeg', 640, 480, 'PARTIAL_IMAGE'));
  });

  it('warns that only the first frame of an animation is used', () => {
    expect(check(gif(320, 246, 3))).toEqual(accepted('gif', 320, 246, 'ANIMATED_FIRST_FRAME'));
    expect(check(webpExtended(64, 64, true))).toEqual(
      accepted('webp', 64, 64, 'ANIMATED_FIRST_FRAME'),
    );
  });

  it('warns about tiny images below tinyBelowPx on either side', () => {
    expect(check(png(31, 500))).toEqual(accepted('png', 31, 500, 'TINY_IMAGE', 'UNUSUAL_ASPECT'));
    expect(check(png(32, 32))).toEqual(accepted('png', 32, 32));
    expect(check(png(32, 32), { tinyBelowPx: 64 })).toEqual(accepted('png', 32, 32, 'TINY_IMAGE'));
  });

  it('warns about an aspect ratio beyond unusualAspectAbove', () => {
    expect(check(png(400, 100))).toEqual(accepted('png', 400, 100));
    expect(check(png(401, 100))).toEqual(accepted('png', 401, 100, 'UNUSUAL_ASPECT'));
    expect(check(png(100, 401))).toEqual(accepted('png', 100, 401, 'UNUSUAL_ASPECT'));
    expect(check(png(300, 100), { unusualAspectAbove: 2 })).toEqual(
      accepted('png', 300, 100, 'UNUSUAL_ASPECT'),
    );
  });

  it('accepts a clean image with no warnings', () => {
    expect(check(jpeg(1024, 768))).toEqual(accepted('jpeg', 1024, 768));
  });
});

describe('checkImageSize: a frame without a file', () => {
  const sized = (width: number, height: number, limits = {}) => {
    const result = checkImageSize({ width, height }, limits);
    return result.ok ? result.value : result.error.code;
  };

  it('gives a bitmap the warnings a file header of that size gets', () => {
    for (const [width, height] of [
      [1920, 1080],
      [16, 16],
      [31, 500],
      [401, 100],
      [1, 1],
    ] as const) {
      const file = validateImageBytes(png(width, height));
      expect(file.ok && file.value.warnings, `${width}×${height}`).toEqual(sized(width, height));
    }
    expect(sized(16, 16)).toEqual(['TINY_IMAGE']);
    expect(sized(640, 480)).toEqual([]);
  });

  it('refuses a frame with no pixels or too many, like a header', () => {
    expect(sized(0, 480)).toBe('DECODE_FAILED');
    expect(sized(640, 0)).toBe('DECODE_FAILED');
    expect(sized(20_000, 10_000)).toBe('TOO_MANY_PIXELS');
    expect(sized(100, 100, { maxPixels: 9_999 })).toBe('TOO_MANY_PIXELS');
    expect(sized(64, 64, { tinyBelowPx: 100 })).toEqual(['TINY_IMAGE']);
  });
});

describe('exposureWarnings', () => {
  /** RGBA pixels of a shared photo at the size the browser decodes it (short side 448). */
  async function photoPixels(relative: string, brightness = 1) {
    const { data, info } = await sharp(path.join(DATA_DIR, relative))
      .rotate()
      .resize(448, 448, { fit: 'outside', withoutEnlargement: true })
      .linear(brightness, 0)
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  }

  function uniform(width: number, height: number, rgba: [number, number, number, number]) {
    const data = new Uint8ClampedArray(width * height * 4);
    for (let i = 0; i < data.length; i += 4) data.set(rgba, i);
    return { data, width, height };
  }

  it('passes the darkest real photos of the shared data', async () => {
    for (const file of [
      'imagenet-animals/n02119022_red_fox.JPEG',
      'imagenet-animals/n01770393_scorpion.JPEG',
      'camera-trap/blank.jpg',
      'camera-trap/american_black_bear.jpg',
    ]) {
      expect(exposureWarnings(await photoPixels(file)), file).toEqual([]);
    }
  });

  it('warns about a real photo seen through a nearly covered lens', async () => {
    const robin = 'imagenet-animals/n01558993_robin.JPEG';
    expect(exposureWarnings(await photoPixels(robin))).toEqual([]);
    expect(exposureWarnings(await photoPixels(robin, 0.04))).toEqual(['TOO_DARK']);
  });

  it('warns about black with sensor noise and a few hot pixels', () => {
    const frame = uniform(640, 480, [0, 0, 0, 255]);
    let seed = 7;
    for (let i = 0; i < frame.data.length; i += 4) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      frame.data.fill(seed % 24, i, i + 3);
    }
    // Hot pixels: fewer than the lit share that would count as something to see.
    const hot = Math.floor(640 * 480 * DEFAULT_EXPOSURE_LIMITS.tooDarkBelowLitShare) - 1;
    for (let p = 0; p < hot; p++) frame.data.fill(255, p * 4 * 97, p * 4 * 97 + 3);
    expect(exposureWarnings(frame)).toEqual(['TOO_DARK']);
  });

  it('counts lit pixels from litFromLuma, by luma rather than one channel', () => {
    const { litFromLuma } = DEFAULT_EXPOSURE_LIMITS;
    expect(exposureWarnings(uniform(8, 8, [litFromLuma, litFromLuma, litFromLuma, 255]))).toEqual(
      [],
    );
    const below = litFromLuma - 1;
    expect(exposureWarnings(uniform(8, 8, [below, below, below, 255]))).toEqual(['TOO_DARK']);
    // Pure blue at full strength is still a dark colour to the eye (and the camera).
    expect(exposureWarnings(uniform(8, 8, [0, 0, 255, 255]))).toEqual(['TOO_DARK']);
    expect(exposureWarnings(uniform(8, 8, [0, 255, 0, 255]))).toEqual([]);
  });

  it('sees transparent pixels as the white the model sees them on', () => {
    expect(exposureWarnings(uniform(8, 8, [0, 0, 0, 0]))).toEqual([]);
    expect(exposureWarnings(uniform(8, 8, [0, 0, 0, 255]))).toEqual(['TOO_DARK']);
  });

  it('says nothing about an image with no pixels', () => {
    expect(exposureWarnings({ data: new Uint8Array(0), width: 0, height: 0 })).toEqual([]);
  });
});

describe('every truncation of a real file', () => {
  it('gives a JPEG an outcome by where it was cut', () => {
    const whole = readData('odd-inputs/jpeg_tiny_16x16_ocelot.jpg');
    // Its only SOS marker (no EXIF thumbnail here), and the 12-byte scan header after it.
    const sosAt = whole.findIndex((b, i) => b === 0xff && whole[i + 1] === 0xda);
    const scanDataAt = sosAt + 2 + 12;
    for (let length = 0; length <= whole.length; length++) {
      const result = check(whole.subarray(0, length));
      if (length === 0) expect(result).toEqual(refused('EMPTY_FILE'));
      else if (length < 3) expect(result).toEqual(refused('NOT_AN_IMAGE'));
      else if (length < scanDataAt) expect(result).toEqual(refused('TRUNCATED'));
      else if (length < whole.length) {
        expect(result).toEqual(accepted('jpeg', 16, 16, 'PARTIAL_IMAGE', 'TINY_IMAGE'));
      } else expect(result).toEqual(accepted('jpeg', 16, 16, 'TINY_IMAGE'));
    }
  });

  it('gives a PNG an outcome by where it was cut', () => {
    const whole = readData('odd-inputs/png_tiny_16x16_ocelot.png');
    for (let length = 1; length <= whole.length; length++) {
      const result = check(whole.subarray(0, length));
      if (length < 8) expect(result).toEqual(refused('NOT_AN_IMAGE'));
      else if (length < 24) expect(result).toEqual(refused('TRUNCATED'));
      else expect(result).toEqual(accepted('png', 16, 16, 'TINY_IMAGE'));
    }
  });
});

describe('helpers', () => {
  it('knows which formats browsers decode', () => {
    expect(isDecodableFormat('avif')).toBe(true);
    expect(isDecodableFormat('heic')).toBe(false);
    expect(isDecodableFormat('tiff')).toBe(false);
  });
});

// --- The shared data sets: every file has an agreed outcome ----------------------------

function readData(relative: string): Uint8Array {
  return new Uint8Array(readFileSync(path.join(DATA_DIR, relative)));
}

function readLabels(folder: string): Record<string, string>[] {
  return parseCsvRows(readFileSync(path.join(DATA_DIR, folder, 'labels.csv'), 'utf8'));
}

/**
 * Outcomes agreed from each row's `expected` column (sizes checked against `file` and
 * sharp). Browsers cannot decode HEIC or TIFF; a file that "should fail to decode" is
 * refused here already; "partial decode or error" is accepted with PARTIAL_IMAGE. Sizes
 * are as stored: the EXIF orientation 6/8 files hold 600×800 and are turned at decode.
 */
const ODD_INPUTS: Record<string, Outcome> = {
  'png_rgba_alpha_ocelot.png': accepted('png', 640, 491),
  'webp_lossy_ocelot.webp': accepted('webp', 800, 614),
  'webp_alpha_ocelot.webp': accepted('webp', 640, 491),
  'gif_static_ocelot.gif': accepted('gif', 320, 246),
  'gif_animated_3frames_ocelot.gif': accepted('gif', 320, 246, 'ANIMATED_FIRST_FRAME'),
  'png_16bit_rgb_ocelot.png': accepted('png', 640, 491),
  'png_palette_8bit_ocelot.png': accepted('png', 640, 491),
  'png_tiny_16x16_ocelot.png': accepted('png', 16, 16, 'TINY_IMAGE'),
  'jpeg_tiny_16x16_ocelot.jpg': accepted('jpeg', 16, 16, 'TINY_IMAGE'),
  'png_1x1_ocelot.png': accepted('png', 1, 1, 'TINY_IMAGE'),
  'bmp_ocelot.bmp': accepted('bmp', 320, 246),
  'tiff_ocelot.tif': refused('UNSUPPORTED_FORMAT'),
  'jpeg_upright_reference_domestic_dog.jpg': accepted('jpeg', 800, 600),
  'jpeg_exif_orientation6_domestic_dog.jpg': accepted('jpeg', 600, 800),
  'jpeg_exif_orientation3_domestic_dog.jpg': accepted('jpeg', 800, 600),
  'jpeg_exif_orientation8_domestic_dog.jpg': accepted('jpeg', 600, 800),
  'jpeg_grayscale_domestic_dog.jpg': accepted('jpeg', 800, 600),
  'jpeg_cmyk_domestic_dog.jpg': accepted('jpeg', 800, 600),
  'jpeg_progressive_domestic_dog.jpg': accepted('jpeg', 800, 600),
  'jpeg_truncated_45pct_domestic_dog.jpg': accepted('jpeg', 800, 600, 'PARTIAL_IMAGE'),
  'jpeg_header_only_2000bytes_domestic_dog.jpg': refused('TRUNCATED'),
  'jpeg_soi_then_random_garbage.jpg': refused('DECODE_FAILED'),
  'heic_domestic_dog.heic': refused('UNSUPPORTED_FORMAT'),
  'avif_domestic_dog.avif': accepted('avif', 800, 600),
  'png_content_named_as.jpg': accepted('png', 400, 300),
  'jpeg_content_named_as.png': accepted('jpeg', 400, 300),
  'text_file_named.jpg': refused('NOT_AN_IMAGE'),
  'zero_bytes.jpg': refused('EMPTY_FILE'),
  'jpeg_huge_5000x3750_domestic_cattle.jpg': accepted('jpeg', 5000, 3750),
  'jpeg_panorama_6000x300_cattle.jpg': accepted('jpeg', 6000, 300, 'UNUSUAL_ASPECT'),
  'gif_real_imageNotFound_from_hymenoptera_train_ants.gif': accepted('gif', 300, 300),
};

/** Sizes as stored (checked with `file`); only the cut-off variant gets a warning. */
const CAMERA_TRAP: Record<string, Outcome> = {
  'african_elephants.jpg': accepted('jpeg', 2048, 1536),
  'african_elephants_bw.jpg': accepted('jpeg', 2048, 1536),
  'african_elephants_cmyk.jpg': accepted('jpeg', 2048, 1536),
  'african_elephants_truncated_file.jpg': accepted('jpeg', 2048, 1536, 'PARTIAL_IMAGE'),
  'african_elephants_with_exif_orientation.jpg': accepted('jpeg', 1536, 2048),
  'american_black_bear.jpg': accepted('jpeg', 2048, 1536),
  'blank.jpg': accepted('jpeg', 2048, 1536),
  'blank2.jpg': accepted('jpeg', 3264, 2448),
  'blank3.jpg': accepted('jpeg', 3264, 2448),
  'domestic_cattle.jpg': accepted('jpeg', 2048, 1536),
  'domestic_dog.jpg': accepted('jpeg', 2048, 1536),
  'human.jpg': accepted('jpeg', 3072, 1728),
  'ocelot.jpg': accepted('jpeg', 1046, 802),
  'vehicle.jpg': accepted('jpeg', 2048, 1536),
};

describe.each([
  ['odd-inputs', ODD_INPUTS, 'expected'],
  ['camera-trap', CAMERA_TRAP, 'variant'],
])('../shared/data/%s', (folder, expected, noteColumn) => {
  const rows = readLabels(folder);

  it('has an agreed outcome for every file in labels.csv and on disk, and no other', () => {
    const listed = rows.map((row) => row.file).sort();
    const onDisk = readdirSync(path.join(DATA_DIR, folder))
      .filter((file) => file !== 'labels.csv')
      .sort();
    expect(listed).toEqual(Object.keys(expected).sort());
    expect(onDisk).toEqual(listed);
  });

  it.each(rows.map((row) => [row.file ?? '', row[noteColumn] ?? '']))('%s (%s)', (file) => {
    expect(check(readData(path.join(folder, file)))).toEqual(expected[file]);
  });
});
