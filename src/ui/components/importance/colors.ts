/** Sequential, colour-blind-safe scale (viridis, 9 stops) for scores normalised to [0, 1]. */
const VIRIDIS = ['#440154', '#472d7b', '#3b528b', '#2c728e', '#21918c', '#28ae80', '#5ec962', '#addc30', '#fde725'];

export function viridis(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  return VIRIDIS[Math.round(x)]!;
}

/** Diverging-free scale for correlations in [-1, 1]: mapped onto viridis. */
export function correlationColor(r: number): string {
  return viridis((r + 1) / 2);
}
