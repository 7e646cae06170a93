/** The recharts line of RecoveryCurve: training loss per step; loaded on first use (../lazy-charts), only once there is a curve. */
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { LossPoint } from '../../../store/results';

export function RecoveryChart({ points, steps }: { points: LossPoint[]; steps: number }) {
  return (
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
  );
}
