/**
 * Pure helpers of the image grid: which images to show (flipped predictions first) and one image's
 * uint8 pixels as RGBA for a canvas.
 */
import type { RawImages } from '../../../api/types';

export interface GridCell {
  index: number;
  label: number;
  dense: number;
  pruned: number;
  /** 'fixed': pruned right where dense was wrong; 'broken': the reverse; 'changed': both wrong, differently. */
  flip: 'fixed' | 'broken' | 'changed' | null;
}

export function gridCells(labels: ArrayLike<number>, dense: number[], pruned: number[] | null): GridCell[] {
  const out: GridCell[] = [];
  for (let i = 0; i < dense.length; i++) {
    const label = labels[i]!;
    const d = dense[i]!;
    const p = pruned ? pruned[i]! : d;
    const flip = d === p ? null : p === label ? 'fixed' : d === label ? 'broken' : 'changed';
    out.push({ index: i, label, dense: d, pruned: p, flip });
  }
  return out;
}

/** Flipped images first (in order), then the rest, at most `limit`; or only the flipped ones. */
export function shownCells(cells: GridCell[], onlyFlipped: boolean, limit: number): GridCell[] {
  const flipped = cells.filter((c) => c.flip !== null);
  if (onlyFlipped) return flipped.slice(0, limit);
  return [...flipped, ...cells.filter((c) => c.flip === null)].slice(0, limit);
}

/** RGBA bytes of image `n` (gray repeated; 2 channels show the first; RGB(A) as is, opaque). */
export function imageRgba(raw: RawImages, n: number): Uint8ClampedArray<ArrayBuffer> {
  const { height: H, width: W, sourceChannels: S } = raw;
  const out = new Uint8ClampedArray(H * W * 4);
  const base = n * H * W * S;
  for (let p = 0; p < H * W; p++) {
    const at = base + p * S;
    const g = raw.pixels[at]!;
    const rgb = S >= 3 ? [g, raw.pixels[at + 1]!, raw.pixels[at + 2]!] : [g, g, g];
    out[p * 4] = rgb[0]!;
    out[p * 4 + 1] = rgb[1]!;
    out[p * 4 + 2] = rgb[2]!;
    out[p * 4 + 3] = 255;
  }
  return out;
}
