/**
 * The Pareto scatter of ResultsRow as plain SVG: dashed grid, nice linear axes with their labels, the
 * dense point (orange diamond, labelled "dense") and one mark per weight precision (numbered as in the
 * list under the chart), each point's values in a native tooltip (<title>). Was a recharts ScatterChart,
 * whose mount and every data change were main-thread tasks of 100-250 ms (bench/ui-stalls.spec.ts).
 */
import { fixed } from '../../format';
import { AXIS_LABEL, markOf, type Axis, type MarkShape, type ParetoPoint } from './pareto-marks';
import { niceAxis, tickLabel } from './scatter-scale';

export interface ParetoScatterProps {
  axis: Axis;
  metric: string;
  points: ParetoPoint[];
  densePoint: { x: number; y: number; name: string }[];
  dtypes: string[];
}

const W = 480;
const H = 220;
const M = { top: 14, right: 14, bottom: 38, left: 56 };
const R = 5;

/** SVG path of a mark of radius R centred at (0, 0). */
function shapePath(shape: MarkShape | 'diamond'): string {
  const r = R;
  const polygon = (pts: [number, number][]) => `M${pts.map(([x, y]) => `${x.toFixed(2)},${y.toFixed(2)}`).join('L')}Z`;
  const star = (n: number, inner: number) =>
    polygon(
      Array.from({ length: 2 * n }, (_, i) => {
        const a = (Math.PI * i) / n - Math.PI / 2;
        const rr = i % 2 ? r * inner : r * 1.2;
        return [rr * Math.cos(a), rr * Math.sin(a)] as [number, number];
      }),
    );
  switch (shape) {
    case 'circle':
      return `M${-r},0A${r},${r} 0 1,0 ${r},0A${r},${r} 0 1,0 ${-r},0Z`;
    case 'square':
      return polygon([
        [-r, -r],
        [r, -r],
        [r, r],
        [-r, r],
      ]);
    case 'triangle':
      return polygon([
        [0, -r * 1.2],
        [r * 1.1, r * 0.8],
        [-r * 1.1, r * 0.8],
      ]);
    case 'diamond':
      return polygon([
        [0, -r * 1.3],
        [r, 0],
        [0, r * 1.3],
        [-r, 0],
      ]);
    case 'cross': {
      const t = r / 3;
      return polygon([
        [-t, -r],
        [t, -r],
        [t, -t],
        [r, -t],
        [r, t],
        [t, t],
        [t, r],
        [-t, r],
        [-t, t],
        [-r, t],
        [-r, -t],
        [-t, -t],
      ]);
    }
    case 'star':
      return star(5, 0.45);
    case 'wye':
      return star(3, 0.35);
  }
}

export function ParetoScatter({ axis, metric, points, densePoint, dtypes }: ParetoScatterProps) {
  const all = [...densePoint, ...points];
  const xs = niceAxis(all.map((p) => p.x));
  const ys = niceAxis(all.map((p) => p.y));
  const px = (x: number) => M.left + ((x - xs.min) / (xs.max - xs.min)) * (W - M.left - M.right);
  const py = (y: number) => H - M.bottom - ((y - ys.min) / (ys.max - ys.min)) * (H - M.top - M.bottom);
  const mark = (key: string, x: number, y: number, shape: MarkShape | 'diamond', fill: string, label: string, tip: string) => (
    <g key={key} transform={`translate(${px(x).toFixed(2)},${py(y).toFixed(2)})`}>
      <path d={shapePath(shape)} fill={fill}>
        <title>{tip}</title>
      </path>
      <text className="point-label" y={-R - 4} textAnchor="middle">
        {label}
      </text>
    </g>
  );
  const tip = (name: string, x: number, y: number) => `${name}: ${axis} ${fixed(x)}, ${metric} ${fixed(y)}`;
  return (
    <svg viewBox={`0 0 ${W} ${H}`} width="100%" className="scatter" aria-hidden="true">
      <g className="scatter-grid" stroke="#ccc" strokeDasharray="3 3">
        {xs.ticks.map((t) => (
          <line key={`gx${t}`} x1={px(t)} x2={px(t)} y1={M.top} y2={H - M.bottom} />
        ))}
        {ys.ticks.map((t) => (
          <line key={`gy${t}`} x1={M.left} x2={W - M.right} y1={py(t)} y2={py(t)} />
        ))}
      </g>
      <g className="scatter-axis" fontSize={11} fill="#666">
        <line x1={M.left} x2={W - M.right} y1={H - M.bottom} y2={H - M.bottom} stroke="#666" />
        <line x1={M.left} x2={M.left} y1={M.top} y2={H - M.bottom} stroke="#666" />
        {xs.ticks.map((t) => (
          <text key={`tx${t}`} x={px(t)} y={H - M.bottom + 14} textAnchor="middle">
            {tickLabel(t)}
          </text>
        ))}
        {ys.ticks.map((t) => (
          <text key={`ty${t}`} x={M.left - 6} y={py(t) + 4} textAnchor="end">
            {tickLabel(t)}
          </text>
        ))}
        <text x={(M.left + W - M.right) / 2} y={H - 6} textAnchor="middle">
          {AXIS_LABEL[axis]}
        </text>
        <text transform={`translate(14,${(M.top + H - M.bottom) / 2}) rotate(-90)`} textAnchor="middle">
          {metric}
        </text>
      </g>
      {densePoint.map((p) => mark('dense', p.x, p.y, 'diamond', '#E69F00', p.name, tip(p.name, p.x, p.y)))}
      {dtypes.flatMap((d) =>
        points
          .filter((p) => p.dtype === d)
          .map((p) => mark(`${d}-${p.label}`, p.x, p.y, markOf(d).shape, markOf(d).fill, p.label, tip(p.name, p.x, p.y))),
      )}
    </svg>
  );
}
