/** preprocessor_config.json reading and uint8 -> pixel_values, against hand-computed values. */
import { describe, expect, it } from 'vitest';
import type { VisionSpec } from '../core/ir';
import { checkImageDataset, imageBatch } from '../eval/image-dataset';
import { preprocessImages, readPreprocessor } from './image-preprocess';

const gray: VisionSpec = { imageSize: 2, patchSize: 1, numChannels: 1, labels: ['a', 'b'] };
const rgb: VisionSpec = { ...gray, numChannels: 3 };

describe('readPreprocessor', () => {
  it('reads ViTImageProcessor fields and its defaults', () => {
    expect(readPreprocessor({ size: { height: 2, width: 2 }, rescale_factor: 0.5, image_mean: [0.2], image_std: [0.4] }, gray)).toEqual({
      height: 2,
      width: 2,
      channels: 1,
      rescale: 0.5,
      mean: [0.2],
      std: [0.4],
    });
    expect(readPreprocessor(undefined, rgb)).toMatchObject({ rescale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    expect(readPreprocessor({ do_rescale: false, do_normalize: false, size: 2 }, rgb)).toMatchObject({
      rescale: 1,
      mean: [0, 0, 0],
      std: [1, 1, 1],
    });
  });

  it('refuses a resize to another size and per-channel lists of the wrong length', () => {
    expect(() => readPreprocessor({ size: { height: 224, width: 224 } }, gray)).toThrow(/resizes to 224 x 224/);
    expect(readPreprocessor({ do_resize: false, size: { height: 224, width: 224 } }, gray).height).toBe(2);
    expect(() => readPreprocessor({ image_mean: [0.1, 0.2] }, rgb)).toThrow(/has 2 values; the model has 3 channels/);
    expect(() => readPreprocessor({ image_std: 'x' }, rgb)).toThrow(/image_std/);
  });
});

describe('preprocessImages', () => {
  it('rescales and normalises grayscale pixels, repeating gray to RGB', () => {
    const p = readPreprocessor({ size: 2, image_mean: [0.5, 0.25, 0], image_std: [0.5, 0.25, 2] }, rgb);
    const ds = preprocessImages(
      { pixels: Uint8Array.from([0, 51, 102, 255]), count: 1, height: 2, width: 2, sourceChannels: 1, labels: [1] },
      p,
    );
    // x/255 = 0, 0.2, 0.4, 1; channel 0: (x - 0.5)/0.5; channel 1: (x - 0.25)/0.25; channel 2: x/2
    const want = [-1, -0.6, -0.2, 1, -1, -0.2, 0.6, 3, 0, 0.1, 0.2, 0.5];
    ds.images.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
    expect(ds).toMatchObject({ count: 1, channels: 3, height: 2, width: 2 });
    expect(Array.from(ds.labels)).toEqual([1]);
  });

  it('turns interleaved RGB into one channel with PIL luminance and keeps images apart', () => {
    const p = readPreprocessor({ size: 2, do_normalize: false }, gray);
    const px = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 10, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 100, 100, 100]);
    const ds = preprocessImages({ pixels: px, count: 2, height: 2, width: 2, sourceChannels: 3, labels: [0, 1] }, p);
    // L = (299 R + 587 G + 114 B) / 1000, then / 255
    const L = [76.245, 149.685, 29.07, 10, 1.815, 4.815, 7.815, 100].map((v) => v / 255);
    ds.images.forEach((v, i) => expect(v).toBeCloseTo(L[i]!, 6));
  });

  it('refuses other sizes and mismatched byte counts', () => {
    const p = readPreprocessor({ size: 2 }, gray);
    expect(() => preprocessImages({ pixels: new Uint8Array(9), count: 1, height: 3, width: 3, sourceChannels: 1, labels: [0] }, p)).toThrow(
      /3 x 3; the model reads 2 x 2/,
    );
    expect(() => preprocessImages({ pixels: new Uint8Array(5), count: 1, height: 2, width: 2, sourceChannels: 1, labels: [0] }, p)).toThrow(
      /5 bytes/,
    );
  });
});

describe('image datasets', () => {
  const p = readPreprocessor({ size: 2 }, gray);
  const ds = preprocessImages(
    { pixels: new Uint8Array(12).map((_, i) => i), count: 3, height: 2, width: 2, sourceChannels: 1, labels: [0, 1, 1] },
    p,
  );

  it('checks geometry and labels against the model', () => {
    expect(() => checkImageDataset(ds, { channels: 1, imageSize: 2, numLabels: 2 })).not.toThrow();
    expect(() => checkImageDataset(ds, { channels: 3, imageSize: 2, numLabels: 2 })).toThrow(/model reads 3 x 2 x 2/);
    expect(() => checkImageDataset(ds, { channels: 1, imageSize: 2, numLabels: 1 })).toThrow(/Label 1 of image 1/);
  });

  it('batches are views with their dims', () => {
    const b = imageBatch(ds, 2, 5);
    expect(b.dims).toEqual([1, 1, 2, 2]);
    expect(b.data.buffer).toBe(ds.images.buffer);
    expect(Array.from(b.labels)).toEqual([1]);
    expect(b.data[0]).toBeCloseTo((8 / 255 - 0.5) / 0.5, 6);
  });
});
