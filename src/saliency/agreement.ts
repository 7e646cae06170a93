/** Criterion agreement: Spearman rank correlation between two score vectors (average ranks for ties). */

export function ranks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const r = new Float64Array(n);
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]!] === values[order[i]!]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[order[k]!] = avg;
    i = j + 1;
  }
  return r;
}

function pearson(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]! / n;
    mb += b[i]! / n;
  }
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`spearman: lengths differ (${a.length} vs ${b.length})`);
  return pearson(ranks(a), ranks(b));
}

export interface AgreementMatrix {
  unit: 'heads' | 'ffn' | 'layers';
  criteria: string[];
  /** Row-major [n, n] Spearman correlations. */
  values: Float64Array;
}

export function agreementMatrix(
  unit: AgreementMatrix['unit'],
  scores: { criterion: string; heads: Float64Array | null; ffn: Float64Array | null; layers: Float64Array | null }[],
): AgreementMatrix {
  const present = scores.filter((s) => s[unit]);
  const n = present.length;
  const values = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) values[i * n + j] = i === j ? 1 : spearman(present[i]![unit]!, present[j]![unit]!);
  }
  return { unit, criteria: present.map((s) => s.criterion), values };
}
