import { writeFile } from 'node:fs/promises';
import sharp from 'sharp';

/**
 * YUV4MPEG2 ("y4m") video, the uncompressed format Chromium's fake camera plays from a
 * file (`--use-file-for-fake-video-capture`), so that e2e tests can point the live camera
 * at a real photo. Frames are 4:2:0 in BT.601 studio range, which is how the capture
 * pipeline reads a frame that carries no colour space of its own.
 */

export interface RgbImage {
  /** width × height × channels bytes, row by row; a fourth (alpha) channel is ignored. */
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3 | 4;
}

/** Frames per second written in the header; the fake camera delivers at this rate. */
const FRAME_RATE = 30;

export function y4mHeader(width: number, height: number): string {
  return `YUV4MPEG2 W${width} H${height} F${FRAME_RATE}:1 Ip A1:1 C420jpeg\n`;
}

/** Bytes of one frame's planes: full-size Y, then Cb and Cr at half size (rounded up). */
export function y4mFrameBytes(width: number, height: number): number {
  return width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
}

/** BT.601 studio range: black is Y 16, white Y 235, grey has Cb = Cr = 128. */
export function rgbToYcbcr(r: number, g: number, b: number): [number, number, number] {
  return [
    16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255,
    128 + (-37.797 * r - 74.203 * g + 112 * b) / 255,
    128 + (112 * r - 93.786 * g - 18.214 * b) / 255,
  ];
}

const byte = (value: number) => Math.max(0, Math.min(255, Math.round(value)));

/** One frame's I420 planes from RGB pixels; chroma is the mean of each 2×2 block. */
export function toI420(image: RgbImage): Uint8Array {
  const { data, width, height, channels } = image;
  if (data.length < width * height * channels) {
    throw new RangeError(`${data.length} bytes is not ${width}×${height}×${channels}`);
  }
  const chromaWidth = Math.ceil(width / 2);
  const chromaHeight = Math.ceil(height / 2);
  const out = new Uint8Array(y4mFrameBytes(width, height));
  const cbAt = width * height;
  const crAt = cbAt + chromaWidth * chromaHeight;
  for (let cy = 0; cy < chromaHeight; cy++) {
    for (let cx = 0; cx < chromaWidth; cx++) {
      let cb = 0;
      let cr = 0;
      let n = 0;
      for (let y = cy * 2; y < Math.min(height, cy * 2 + 2); y++) {
        for (let x = cx * 2; x < Math.min(width, cx * 2 + 2); x++) {
          const i = (y * width + x) * channels;
          const [luma, blue, red] = rgbToYcbcr(data[i]!, data[i + 1]!, data[i + 2]!);
          out[y * width + x] = byte(luma);
          cb += blue;
          cr += red;
          n++;
        }
      }
      out[cbAt + cy * chromaWidth + cx] = byte(cb / n);
      out[crAt + cy * chromaWidth + cx] = byte(cr / n);
    }
  }
  return out;
}

/** A y4m stream of the same picture `frames` times (the fake camera loops the file). */
export function encodeY4m(image: RgbImage, frames = 1): Buffer {
  const header = Buffer.from(y4mHeader(image.width, image.height), 'ascii');
  const frame = Buffer.concat([Buffer.from('FRAME\n', 'ascii'), toI420(image)]);
  return Buffer.concat([header, ...Array.from({ length: frames }, () => frame)]);
}

export interface PhotoVideoOptions {
  /** Both sides of the frame; the photo is cropped to fill it. Default: the photo's own size. */
  size?: { width: number; height: number };
  /** Multiplies every channel: below 1 a dimmer scene, as through a covered lens. */
  brightness?: number;
}

/**
 * Writes `photo` (EXIF orientation applied) as a y4m file at `outFile`; returns the frame
 * size. Sides are made even: 4:2:0 players differ on how they round an odd one.
 */
export async function writePhotoAsY4m(
  photo: string,
  outFile: string,
  options: PhotoVideoOptions = {},
): Promise<{ width: number; height: number }> {
  let pipeline = sharp(photo).rotate();
  if (options.size) {
    pipeline = pipeline.resize(options.size.width, options.size.height, { fit: 'cover' });
  }
  const oriented = await pipeline.toColourspace('srgb').removeAlpha().raw().toBuffer({
    resolveWithObject: true,
  });
  let { width, height } = oriented.info;
  let frame = sharp(oriented.data, { raw: { width, height, channels: 3 } });
  if (width % 2 === 1 || height % 2 === 1) {
    frame = frame.extract({ left: 0, top: 0, width: width & ~1, height: height & ~1 });
    width &= ~1;
    height &= ~1;
  }
  if (options.brightness !== undefined) frame = frame.linear(options.brightness, 0);
  const data = await frame.raw().toBuffer();
  await writeFile(outFile, encodeY4m({ data, width, height, channels: 3 }));
  return { width, height };
}
