/**
 * Layers x heads heatmap (SVG). Viridis colour by rank within the model; heads removed by the
 * current plan are hatched. Keyboard: arrows move the focus, Space toggles the head in the plan.
 */
import { useState, type KeyboardEvent } from 'react';
import { useStudio } from '../../../store';
import { viridis } from './colors';

const CELL = 44;

export function Heatmap({ values, layers, heads }: { values: Float64Array; layers: number; heads: number }) {
  const plan = useStudio((s) => s.plan);
  const toggleHead = useStudio((s) => s.toggleHead);
  const [focus, setFocus] = useState<[number, number]>([0, 0]);
  const [hover, setHover] = useState<[number, number] | null>(null);
  const sorted = [...values].sort((a, b) => a - b);
  const rankOf = (v: number) => sorted.length - sorted.lastIndexOf(v);
  const pct = (v: number) => (sorted.indexOf(v) / Math.max(1, sorted.length - 1)) * 100;
  const removed = (l: number, h: number) => plan?.layers[l]?.removed === true || plan?.layers[l]?.removedHeads.includes(h) === true;
  const shown = hover ?? focus;
  const value = values[shown[0] * heads + shown[1]] ?? NaN;

  const onKey = (e: KeyboardEvent) => {
    const [l, h] = focus;
    const moves: Record<string, [number, number]> = {
      ArrowUp: [l - 1, h],
      ArrowDown: [l + 1, h],
      ArrowLeft: [l, h - 1],
      ArrowRight: [l, h + 1],
    };
    const next = moves[e.key];
    if (next) {
      e.preventDefault();
      setFocus([Math.min(layers - 1, Math.max(0, next[0])), Math.min(heads - 1, Math.max(0, next[1]))]);
    } else if (e.key === ' ' || e.key === 'Enter') {
      e.preventDefault();
      toggleHead(l, h);
    }
  };

  return (
    <figure className="heatmap">
      <svg
        data-testid="heatmap"
        role="grid"
        tabIndex={0}
        aria-label={`Head importance, ${layers} layers by ${heads} heads. Arrow keys move, Space toggles a head in the plan.`}
        width={CELL * heads + 40}
        height={CELL * layers + 24}
        onKeyDown={onKey}
      >
        <defs>
          <pattern id="hatch" width="6" height="6" patternTransform="rotate(45)" patternUnits="userSpaceOnUse">
            <line x1="0" y1="0" x2="0" y2="6" stroke="#fff" strokeWidth="2" />
          </pattern>
        </defs>
        {Array.from({ length: heads }, (_, h) => (
          <text key={`h${h}`} x={40 + h * CELL + CELL / 2} y={14} textAnchor="middle" className="axis">
            h{h}
          </text>
        ))}
        {Array.from({ length: layers }, (_, l) => (
          <g key={l} role="row">
            <text x={4} y={24 + l * CELL + CELL / 2 + 4} className="axis">
              L{l}
            </text>
            {Array.from({ length: heads }, (_, h) => {
              const v = values[l * heads + h] ?? NaN;
              const isFocus = focus[0] === l && focus[1] === h;
              return (
                <g
                  key={h}
                  role="gridcell"
                  aria-selected={removed(l, h)}
                  data-testid="heatmap-cell"
                  onMouseEnter={() => setHover([l, h])}
                  onMouseLeave={() => setHover(null)}
                  onClick={() => {
                    setFocus([l, h]);
                    toggleHead(l, h);
                  }}
                >
                  <rect
                    x={40 + h * CELL}
                    y={24 + l * CELL}
                    width={CELL - 2}
                    height={CELL - 2}
                    fill={viridis(pct(v) / 100)}
                    stroke={isFocus ? '#000' : 'none'}
                    strokeWidth={3}
                  />
                  {removed(l, h) ? (
                    <rect x={40 + h * CELL} y={24 + l * CELL} width={CELL - 2} height={CELL - 2} fill="url(#hatch)" />
                  ) : null}
                  <title>{`layer ${l}, head ${h}: score ${v.toPrecision(4)}, rank ${rankOf(v)} of ${values.length}, percentile ${pct(v).toFixed(0)}`}</title>
                </g>
              );
            })}
          </g>
        ))}
      </svg>
      <figcaption aria-live="polite" data-testid="heatmap-readout">
        Layer {shown[0]}, head {shown[1]}: score {value.toPrecision(4)} · rank {rankOf(value)} of {values.length} · percentile{' '}
        {pct(value).toFixed(0)}
        {removed(shown[0], shown[1]) ? ' · removed in the plan' : ''}. Colour: rank (viridis, dark = least important).
      </figcaption>
    </figure>
  );
}
