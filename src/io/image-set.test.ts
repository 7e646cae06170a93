/** IDX and image-set-v1 parsing on hand-made bytes. */
import { describe, expect, it } from 'vitest';
import { firstImages, parseIdx, rawImagesFromIdx, rawImagesFromImageSet } from './image-set';

function idx(dims: number[], data: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out.set([0, 0, 8, dims.length]);
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

describe('IDX', () => {
  it('reads images and labels', () => {
    const images = parseIdx(idx([2, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
    expect(images.dims).toEqual([2, 2, 3]);
    const raw = rawImagesFromIdx(images, parseIdx(idx([2], [7, 1])), 'two images');
    expect(raw).toMatchObject({ count: 2, height: 2, width: 3, sourceChannels: 1, description: 'two images' });
    expect(Array.from(raw.pixels)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(Array.from(raw.labels)).toEqual([7, 1]);
    const one = firstImages(raw, 1);
    expect(Array.from(one.pixels)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(one.labels)).toEqual([7]);
  });

  it('refuses other files by name', () => {
    expect(() => parseIdx(Uint8Array.from([0x1f, 0x8b, 8, 0]), 'x.gz')).toThrow(/x\.gz is not an IDX file/);
    expect(() => parseIdx(Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 0]))).toThrow(/only unsigned bytes/);
    expect(() => parseIdx(idx([3], [1, 2]))).toThrow(/declares 3 = 3 values but holds 2/);
    expect(() => rawImagesFromIdx(parseIdx(idx([2, 1, 1], [0, 0])), parseIdx(idx([3], [0, 0, 0])))).toThrow(/expected \[2\]/);
  });
});

describe('image set v1', () => {
  it('reads pixels then labels as the manifest says', () => {
    const bin = Uint8Array.from([10, 20, 30, 40, 50, 60, 70, 80, 3, 5]);
    const manifest = {
      count: 2,
      shape: [2, 2],
      channels: 1,
      images: { offset: 0 },
      labels: { offset: 8 },
      classes: ['a', 'b', 'c', 'd', 'e', 'f'],
    };
    const raw = rawImagesFromImageSet(manifest, bin);
    expect(Array.from(raw.pixels)).toEqual([10, 20, 30, 40, 50, 60, 70, 80]);
    expect(Array.from(raw.labels)).toEqual([3, 5]);
    expect(raw.classes).toHaveLength(6);
    expect(() => rawImagesFromImageSet({ ...manifest, count: 3 }, bin)).toThrow(/has 10 bytes; the manifest needs 12/);
    expect(() => rawImagesFromImageSet({ ...manifest, shape: [2] }, bin)).toThrow(/height, width/);
  });
});
