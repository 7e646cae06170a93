/**
 * Image preprocessing as Hugging Face's ViTImageProcessor does it, from preprocessor_config.json
 * (pure): uint8 pixels (grayscale [N, H, W] or interleaved [N, H, W, C]) -> float32 [N, C, H, W] =
 * ((x · rescale_factor) − mean[c]) / std[c]. Channel conversion: grayscale is repeated to the
 * model's channels; RGB to one channel uses PIL's convert("L") weights (299, 587, 114)/1000.
 * Resizing is not done: images must already have the model's size (do_resize with another size is
 * refused by name, so nothing is silently distorted).
 */
import { ConfigError, InputError } from '../core/errors';
import type { VisionSpec } from '../core/ir';
import type { ImageDataset } from '../eval/image-dataset';
import { isObject } from './hf-config';

export interface ImagePreprocess {
  height: number;
  width: number;
  channels: number;
  /** Multiplies the uint8 value first (1 when do_rescale is false). */
  rescale: number;
  /** Per channel (0 and 1 when do_normalize is false). */
  mean: number[];
  std: number[];
}

/** ViTImageProcessor defaults (IMAGENET_STANDARD_MEAN / STD). */
const DEFAULT_MEAN = 0.5;
const DEFAULT_STD = 0.5;

function numbers(raw: unknown, key: string, channels: number, fallback: number): number[] {
  if (raw === undefined) return new Array<number>(channels).fill(fallback);
  const list = typeof raw === 'number' ? [raw] : raw;
  if (!Array.isArray(list) || !list.every((v) => typeof v === 'number' && Number.isFinite(v)))
    throw new ConfigError(`preprocessor_config.json "${key}" must be a number or a list of numbers, got ${JSON.stringify(raw)}.`);
  const values = list as number[];
  if (values.length === 1) return new Array<number>(channels).fill(values[0]!);
  if (values.length !== channels)
    throw new ConfigError(`preprocessor_config.json "${key}" has ${values.length} values; the model has ${channels} channels.`);
  return values;
}

function size(raw: unknown, fallback: number): { height: number; width: number } {
  if (raw === undefined) return { height: fallback, width: fallback };
  if (typeof raw === 'number') return { height: raw, width: raw };
  if (isObject(raw) && typeof raw.height === 'number' && typeof raw.width === 'number') return { height: raw.height, width: raw.width };
  if (isObject(raw) && typeof raw.shortest_edge === 'number') return { height: raw.shortest_edge, width: raw.shortest_edge };
  throw new ConfigError(`preprocessor_config.json "size" must be {height, width}, got ${JSON.stringify(raw)}.`);
}

/** preprocessor_config.json (absent: ViTImageProcessor defaults) -> the preprocessing for this model. */
export function readPreprocessor(raw: unknown, vision: VisionSpec): ImagePreprocess {
  const c = raw === undefined ? {} : raw;
  if (!isObject(c)) throw new ConfigError('preprocessor_config.json must be a JSON object.');
  const channels = vision.numChannels;
  const target = size(c.size, vision.imageSize);
  if (c.do_resize !== false && (target.height !== vision.imageSize || target.width !== vision.imageSize))
    throw new ConfigError(
      `preprocessor_config.json resizes to ${target.height} x ${target.width}, but the model reads ${vision.imageSize} x ${vision.imageSize} images.`,
    );
  const rescale = c.do_rescale === false ? 1 : typeof c.rescale_factor === 'number' ? c.rescale_factor : 1 / 255;
  const normalize = c.do_normalize !== false;
  return {
    height: vision.imageSize,
    width: vision.imageSize,
    channels,
    rescale,
    mean: normalize ? numbers(c.image_mean, 'image_mean', channels, DEFAULT_MEAN) : new Array<number>(channels).fill(0),
    std: normalize ? numbers(c.image_std, 'image_std', channels, DEFAULT_STD) : new Array<number>(channels).fill(1),
  };
}

export interface RawImages {
  /** uint8 pixels: [count, height, width] (sourceChannels 1) or [count, height, width, sourceChannels]. */
  pixels: Uint8Array;
  count: number;
  height: number;
  width: number;
  sourceChannels: 1 | 2 | 3 | 4;
  labels: ArrayLike<number>;
  description?: string;
}

/** One source pixel as the model's channel c (gray repeated, RGB(A) to luminance, otherwise channel c). */
function channelValue(px: Uint8Array, at: number, src: number, c: number, dst: number): number {
  if (src === dst || (src === 4 && dst === 3)) return px[at + c]!;
  if (src === 1) return px[at]!;
  if (dst === 1 && src >= 3) return (px[at]! * 299 + px[at + 1]! * 587 + px[at + 2]! * 114) / 1000;
  throw new InputError(`Images with ${src} channels cannot feed a model with ${dst} channels.`);
}

/** uint8 images -> the model's float32 input [N, C, H, W] with labels. */
export function preprocessImages(raw: RawImages, p: ImagePreprocess): ImageDataset {
  const { count, height: H, width: W, sourceChannels: S } = raw;
  if (H !== p.height || W !== p.width)
    throw new InputError(`The images are ${H} x ${W}; the model reads ${p.height} x ${p.width} (resizing is not done here).`);
  if (raw.pixels.length !== count * H * W * S)
    throw new InputError(`${raw.pixels.length} bytes for ${count} images of ${H} x ${W} x ${S}.`);
  if (raw.labels.length !== count) throw new InputError(`${raw.labels.length} labels for ${count} images.`);
  const C = p.channels;
  const out = new Float32Array(count * C * H * W);
  for (let n = 0; n < count; n++)
    for (let c = 0; c < C; c++) {
      const scale = p.rescale / p.std[c]!;
      const shift = p.mean[c]! / p.std[c]!;
      const base = (n * C + c) * H * W;
      for (let i = 0; i < H * W; i++) out[base + i] = channelValue(raw.pixels, (n * H * W + i) * S, S, c, C) * scale - shift;
    }
  return {
    images: out,
    count,
    channels: C,
    height: H,
    width: W,
    labels: Int32Array.from(raw.labels),
    ...(raw.description ? { description: raw.description } : {}),
  };
}
