/** The Pareto scatter (recharts) of ResultsRow: the dense point and one series per weight precision; loaded on first use (../lazy-charts). */
import { CartesianGrid, LabelList, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import { fixed } from '../../format';
import { AXIS_LABEL, markOf, type Axis, type ParetoPoint } from './pareto-marks';

export interface ParetoScatterProps {
  axis: Axis;
  metric: string;
  points: ParetoPoint[];
  densePoint: { x: number; y: number; name: string }[];
  dtypes: string[];
}

export function ParetoScatter({ axis, metric, points, densePoint, dtypes }: ParetoScatterProps) {
  return (
    <ResponsiveContainer width="100%" height={220}>
      <ScatterChart margin={{ top: 8, right: 12, bottom: 24, left: 8 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis type="number" dataKey="x" name={axis} domain={['auto', 'auto']} label={{ value: AXIS_LABEL[axis], position: 'bottom' }} />
        <YAxis
          type="number"
          dataKey="y"
          name={metric}
          domain={['auto', 'auto']}
          width={48}
          label={{ value: metric, angle: -90, position: 'insideLeft' }}
        />
        <Tooltip formatter={(v) => (typeof v === 'number' ? fixed(v) : String(v))} labelFormatter={() => ''} />
        <Scatter name="dense" data={densePoint} fill="#E69F00" shape="diamond">
          <LabelList dataKey="name" position="top" className="point-label" />
        </Scatter>
        {dtypes.map((d) => (
          <Scatter key={d} name={d} data={points.filter((p) => p.dtype === d)} fill={markOf(d).fill} shape={markOf(d).shape}>
            <LabelList dataKey="label" position="top" className="point-label" />
          </Scatter>
        ))}
      </ScatterChart>
    </ResponsiveContainer>
  );
}
