/**
 * The recovery curve (a recharts line, ./RecoveryChart, loaded on first use): training loss per step, drawn live while api.recover runs,
 * then the finished curve; after a reload, the curve kept with the latest recovered results row of
 * this model.
 */
import { useMemo } from 'react';
import { useStudio } from '../../../store';
import { modelKey } from '../../../store/model-key';
import type { LossPoint } from '../../../store/results';
import { fixed } from '../../format';
import { RecoveryChart } from '../lazy-charts';

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
        <RecoveryChart points={points} steps={steps} />
      </div>
    </figure>
  );
}
