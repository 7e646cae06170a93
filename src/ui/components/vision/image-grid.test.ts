import { describe, expect, it } from 'vitest';
import { gridCells, imageRgba, shownCells } from './image-grid';

describe('image grid helpers', () => {
  it('marks flips by which side is right, and lists flipped images first', () => {
    const cells = gridCells([0, 1, 2, 1], [0, 2, 2, 0], [1, 1, 2, 2]);
    expect(cells.map((c) => c.flip)).toEqual(['broken', 'fixed', null, 'changed']);
    expect(shownCells(cells, false, 3).map((c) => c.index)).toEqual([0, 1, 3]);
    expect(shownCells(cells, true, 10).map((c) => c.index)).toEqual([0, 1, 3]);
    expect(gridCells([0], [1], null)[0]!.flip).toBeNull();
  });

  it('draws gray, two-channel and RGB pixels as opaque RGBA', () => {
    const gray = { pixels: Uint8Array.from([0, 9, 7, 200]), count: 2, height: 1, width: 2, sourceChannels: 1 as const, labels: [0, 1] };
    expect(Array.from(imageRgba(gray, 1))).toEqual([7, 7, 7, 255, 200, 200, 200, 255]);
    const two = { pixels: Uint8Array.from([5, 6]), count: 1, height: 1, width: 1, sourceChannels: 2 as const, labels: [0] };
    expect(Array.from(imageRgba(two, 0))).toEqual([5, 5, 5, 255]);
    const rgb = { pixels: Uint8Array.from([1, 2, 3]), count: 1, height: 1, width: 1, sourceChannels: 3 as const, labels: [0] };
    expect(Array.from(imageRgba(rgb, 0))).toEqual([1, 2, 3, 255]);
  });
});
