/**
 * Labelled uint8 image files -> RawImages (pure; the caller reads and, for .gz, decompresses):
 * - IDX (the MNIST / Fashion-MNIST format): big-endian magic 0x0000 08 <rank>, rank uint32 sizes,
 *   then uint8 data; images [N, H, W] (or [N, H, W, C]) and labels [N] in two files.
 * - the studio's image set v1 (tools/vit): one .bin with uint8 pixels [count][height][width]
 *   (x channels, interleaved) then uint8 labels [count], described by a JSON manifest
 *   {count, shape: [H, W], channels?, images: {offset}, labels: {offset}, classes?}.
 */
import { InputError } from '../core/errors';
import { isObject } from './hf-config';
import type { RawImages } from './image-preprocess';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Parses an unsigned-byte IDX file. */
export function parseIdx(bytes: Uint8Array, name = 'IDX file'): IdxArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0)
    throw new InputError(
      `${name} is not an IDX file (it must start with two zero bytes).`,
      'Pass the uncompressed or .gz MNIST-style file.',
    );
  if (bytes[2] !== 0x08) throw new InputError(`${name} holds IDX type 0x${bytes[2]!.toString(16)}; only unsigned bytes (0x08) are read.`);
  const rank = bytes[3]!;
  const head = 4 + 4 * rank;
  if (rank < 1 || bytes.length < head) throw new InputError(`${name} has a truncated IDX header.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const n = dims.reduce((a, b) => a * b, 1);
  if (bytes.length - head !== n)
    throw new InputError(`${name} declares ${dims.join(' x ')} = ${n} values but holds ${bytes.length - head}.`);
  return { dims, data: bytes.subarray(head) };
}

function sourceChannels(c: number, name: string): RawImages['sourceChannels'] {
  if (c === 1 || c === 2 || c === 3 || c === 4) return c;
  throw new InputError(`${name}: images with ${c} channels are not supported (1 to 4).`);
}

/** IDX images [N, H, W] or [N, H, W, C] + IDX labels [N]. */
export function rawImagesFromIdx(images: IdxArray, labels: IdxArray, description?: string): RawImages {
  const [count = 0, height = 0, width = 0, channels = 1] = images.dims;
  if (images.dims.length < 3 || images.dims.length > 4)
    throw new InputError(`The IDX images have rank ${images.dims.length}; expected [N, H, W] or [N, H, W, C].`);
  if (labels.dims.length !== 1 || labels.dims[0] !== count)
    throw new InputError(`The IDX labels are [${labels.dims.join(', ')}]; expected [${count}].`);
  return {
    pixels: images.data,
    count,
    height,
    width,
    sourceChannels: sourceChannels(channels, 'IDX images'),
    labels: labels.data,
    ...(description ? { description } : {}),
  };
}

function nonNegativeInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw new InputError(`The image set manifest's ${what} must be a non-negative integer, got ${JSON.stringify(v)}.`);
  return v;
}

/** The studio's image set v1: its JSON manifest and the .bin it describes. */
export function rawImagesFromImageSet(manifest: unknown, bin: Uint8Array, description?: string): RawImages & { classes?: string[] } {
  if (!isObject(manifest)) throw new InputError('The image set manifest must be a JSON object.');
  const count = nonNegativeInt(manifest.count, 'count');
  const shape = manifest.shape;
  if (!Array.isArray(shape) || shape.length !== 2) throw new InputError('The image set manifest\'s "shape" must be [height, width].');
  const height = nonNegativeInt(shape[0], 'shape[0]');
  const width = nonNegativeInt(shape[1], 'shape[1]');
  const channels = sourceChannels(manifest.channels === undefined ? 1 : nonNegativeInt(manifest.channels, 'channels'), 'image set');
  const imgOffset =
    isObject(manifest.images) && manifest.images.offset !== undefined ? nonNegativeInt(manifest.images.offset, 'images.offset') : 0;
  const pixelBytes = count * height * width * channels;
  const labelOffset =
    isObject(manifest.labels) && manifest.labels.offset !== undefined
      ? nonNegativeInt(manifest.labels.offset, 'labels.offset')
      : imgOffset + pixelBytes;
  if (imgOffset + pixelBytes > bin.length || labelOffset + count > bin.length)
    throw new InputError(
      `The image set's .bin has ${bin.length} bytes; the manifest needs ${Math.max(imgOffset + pixelBytes, labelOffset + count)}.`,
    );
  const classes =
    Array.isArray(manifest.classes) && manifest.classes.every((c) => typeof c === 'string') ? (manifest.classes as string[]) : undefined;
  return {
    pixels: bin.subarray(imgOffset, imgOffset + pixelBytes),
    count,
    height,
    width,
    sourceChannels: channels,
    labels: bin.subarray(labelOffset, labelOffset + count),
    ...(description ? { description } : {}),
    ...(classes ? { classes } : {}),
  };
}

/** The first `n` images of a set (a view). */
export function firstImages(raw: RawImages, n: number): RawImages {
  if (n >= raw.count) return raw;
  const per = raw.height * raw.width * raw.sourceChannels;
  return { ...raw, count: n, pixels: raw.pixels.subarray(0, n * per), labels: Array.from(raw.labels).slice(0, n) };
}
