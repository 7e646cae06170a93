/**
 * The recovery curve (recharts line): training loss per step, drawn live while api.recover runs,
 * then the finished curve; after a reload, the curve kept with the latest recovered results row of
 * this model.
 */
import { useMemo } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useStudio } from '../../../store';
import { modelKey } from '../../../store/model-key';
import type { LossPoint } from '../../../store/results';
import { fixed } from '../../format';

interface Shown {
  title: string;
  steps: number;
  points: LossPoint[];
  running: boolean;
}

function useShownCurve(): Shown | null {
  const live = useStudio((s) => s.recoveryCurve);
  const results = useStudio((s) => s.results);
  const key = useStudio((s) => modelKey(s.model));
  return useMemo(() => {
    if (live) return { title: live.plan, steps: live.steps, points: live.points, running: live.running };
    const row = results.filter((r) => r.model === key && r.curve?.length).at(-1);
    return row?.curve ? { title: `${row.plan} (${row.compensation})`, steps: row.curve.length, points: row.curve, running: false } : null;
  }, [live, results, key]);
}

export function RecoveryCurve() {
  const shown = useShownCurve();
  if (!shown) return <p className="placeholder">The loss per training step appears here while recovery runs.</p>;
  const { points, steps, running } = shown;
  const first = points[0]?.loss;
  const last = points.at(-1)?.loss;
  return (
    <figure className="recovery-curve">
      <figcaption>
        Recovery curve · {shown.title}: {points.length}/{steps} steps{running ? ' (training…)' : ''}
        {first !== undefined && last !== undefined ? `, loss ${fixed(first, 3)} → ${fixed(last, 3)}` : ''}
      </figcaption>
      <div
        className="chart"
        data-testid="recovery-curve"
        data-points={points.length}
        role="img"
        aria-label={`Training loss over ${points.length} recovery steps${first !== undefined && last !== undefined ? `, from ${fixed(first, 3)} to ${fixed(last, 3)}` : ''}`}
      >
        <ResponsiveContainer width="100%" height={160}>
          <LineChart data={points} margin={{ top: 8, right: 12, bottom: 20, left: 4 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis
              type="number"
              dataKey="step"
              domain={[1, Math.max(steps, 2)]}
              allowDecimals={false}
              label={{ value: 'step', position: 'bottom' }}
            />
            <YAxis domain={['auto', 'auto']} width={48} tickFormatter={(v: number) => v.toFixed(2)} />
            <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(4) : String(v))} labelFormatter={(s) => `step ${String(s)}`} />
            <Line dataKey="loss" name="loss" stroke="#0072B2" dot={false} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}
