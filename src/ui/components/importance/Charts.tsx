/** Per-layer bars and per-layer sorted FFN importance curves (recharts). */
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { UnitScores } from '../../../saliency/types';
import { viridis } from './colors';

export function LayerBars({ scores }: { scores: UnitScores }) {
  const { numLayers: L, numHeads: H } = scores;
  const data = Array.from({ length: L }, (_, l) => ({
    layer: `L${l}`,
    score: scores.layers
      ? scores.layers[l]!
      : scores.heads
        ? Array.from(scores.heads.subarray(l * H, (l + 1) * H)).reduce((a, b) => a + b, 0) / H
        : 0,
  }));
  return (
    <figure>
      <figcaption>{scores.layers ? 'Layer score' : 'Mean head score per layer'}</figcaption>
      <ResponsiveContainer width="100%" height={180}>
        <BarChart data={data}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="layer" />
          <YAxis width={70} tickFormatter={(v: number) => v.toPrecision(2)} />
          <Tooltip formatter={(v) => Number(v).toPrecision(4)} />
          <Bar dataKey="score" fill="#3b528b" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}

export function FfnCurves({ scores }: { scores: UnitScores }) {
  if (!scores.ffn) return <p className="help">This criterion does not score FFN neurons.</p>;
  const { numLayers: L, ffnSize: F } = scores;
  const sortedRows = Array.from({ length: L }, (_, l) => Array.from(scores.ffn!.subarray(l * F, (l + 1) * F)).sort((a, b) => b - a));
  const points = 64;
  const data = Array.from({ length: points }, (_, i) => {
    const idx = Math.floor((i / (points - 1)) * (F - 1));
    return Object.fromEntries([['rank', +(idx / (F - 1)).toFixed(3)], ...sortedRows.map((row, l) => [`L${l}`, row[idx]])]);
  });
  return (
    <figure>
      <figcaption>FFN neuron scores, sorted (x = rank fraction, highest first)</figcaption>
      <ResponsiveContainer width="100%" height={200}>
        <LineChart data={data}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="rank" />
          <YAxis width={70} scale="log" domain={['auto', 'auto']} allowDataOverflow tickFormatter={(v: number) => v.toPrecision(2)} />
          <Tooltip formatter={(v) => Number(v).toPrecision(4)} />
          <Legend />
          {sortedRows.map((_, l) => (
            <Line key={l} dataKey={`L${l}`} dot={false} stroke={viridis((l / Math.max(1, L - 1)) * 0.85)} isAnimationActive={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}
