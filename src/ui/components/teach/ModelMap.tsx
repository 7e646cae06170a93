/**
 * Model map (SVG): embeddings, then every block on the residual stream with its attention heads
 * (outlined per kv group under grouped-query attention) and its FFN neurons in bins, then the final
 * norm and LM head. Coloured by the selected criterion's rank (viridis, as the heatmap), cut units
 * hatched and greyed as the plan changes, before -> after widths per layer. Keyboard: arrow keys
 * move between units, Enter or Space opens a unit's details.
 */
import { useMemo, useState, type KeyboardEvent } from 'react';
import { useStudio } from '../../../store';
import { viridis } from '../importance/colors';
import { ffnBins, FFN_BINS, layerCut, layerWidths, percentiles } from './map-model';
import { useTeach, type MapUnit } from './teach-store';
import { UnitDetail } from './UnitDetail';

const CELL = 14;
const BIN = 8;
const ROW = 30;
const LEFT = 72;
const TOP = 44;

export function ModelMap() {
  const model = useStudio((s) => s.model);
  const scores = useStudio((s) => s.scores);
  const criterion = useStudio((s) => s.selectedCriterion);
  const rawPlan = useStudio((s) => s.plan);
  const selected = useTeach((s) => s.selected);
  const select = useTeach((s) => s.select);
  const [focus, setFocus] = useState<[number, number]>([0, 0]);
  const current = scores[criterion];
  const headPct = useMemo(() => (current?.heads ? percentiles(current.heads) : null), [current]);
  const ffnPct = useMemo(() => {
    if (!current?.ffn) return null;
    // rank within each layer's neurons is what allocation compares; colour by rank within the model
    return percentiles(current.ffn);
  }, [current]);
  if (!model) return <p className="help">Load a model (step 1) to see its map.</p>;
  const plan = rawPlan && rawPlan.model.name === model.name ? rawPlan : null;
  const layers = model.layers;
  const H = Math.max(...layers.map((l) => l.numHeads), 1);
  const bins = Math.min(FFN_BINS, Math.max(...layers.map((l) => l.ffnSize), 1));
  const ffnX = LEFT + H * CELL + 28;
  const textX = ffnX + bins * BIN + 12;
  const width = textX + 230;
  const height = TOP + layers.length * ROW + 60;
  const units = (l: number) => (layers[l]?.numHeads ?? 0) + Math.min(bins, layers[l]?.ffnSize ?? 0);
  const unitAt = (l: number, i: number): MapUnit => {
    const h = layers[l]?.numHeads ?? 0;
    return i < h ? { kind: 'head', layer: l, head: i } : { kind: 'ffn', layer: l, bin: i - h };
  };
  const isSelected = (u: MapUnit) =>
    selected?.layer === u.layer &&
    selected.kind === u.kind &&
    (u.kind === 'head' ? selected.kind === 'head' && selected.head === u.head : selected.kind === 'ffn' && selected.bin === u.bin);

  const onKey = (e: KeyboardEvent) => {
    const [l, i] = focus;
    const moves: Record<string, [number, number]> = {
      ArrowUp: [l - 1, i],
      ArrowDown: [l + 1, i],
      ArrowLeft: [l, i - 1],
      ArrowRight: [l, i + 1],
      Home: [l, 0],
      End: [l, units(l) - 1],
    };
    const next = moves[e.key];
    if (next) {
      e.preventDefault();
      const nl = Math.min(layers.length - 1, Math.max(0, next[0]));
      setFocus([nl, Math.min(units(nl) - 1, Math.max(0, next[1]))]);
    } else if (e.key === ' ' || e.key === 'Enter') {
      e.preventDefault();
      select(unitAt(l, i));
    }
  };
  const focused = unitAt(focus[0], focus[1]);
  const scoreNote = !current
    ? 'No criterion computed yet: units are grey. Compute one (step 3) to colour them.'
    : `Colour: rank under ${criterion} (dark = least important, bright = most)${current.heads ? '' : '; heads not scored'}${current.ffn ? '' : '; FFN not scored'}.`;

  return (
    <figure className="model-map">
      <svg
        data-testid="model-map"
        role="grid"
        tabIndex={0}
        viewBox={`0 0 ${width} ${height}`}
        width={width}
        aria-label={`Model map of ${model.name}: ${layers.length} blocks. Arrow keys move between heads and FFN bins, Enter shows details.`}
        onKeyDown={onKey}
      >
        <defs>
          <pattern id="map-hatch" width="5" height="5" patternTransform="rotate(45)" patternUnits="userSpaceOnUse">
            <line x1="0" y1="0" x2="0" y2="5" stroke="#fff" strokeWidth="2" />
          </pattern>
        </defs>
        <line x1={LEFT - 22} y1={TOP - 14} x2={LEFT - 22} y2={TOP + layers.length * ROW + 8} className="map-residual" />
        <text transform={`translate(${LEFT - 28},${TOP + 4}) rotate(-90)`} textAnchor="end" className="axis">
          residual stream
        </text>
        <rect x={LEFT} y={4} width={ffnX + bins * BIN - LEFT} height={18} className="map-box" />
        <text x={LEFT + 6} y={17} className="axis" data-testid="map-embeddings">
          Embeddings: {model.spec.vocabSize.toLocaleString('en-US')} tokens × {model.spec.hiddenSize} ({model.spec.positions} positions)
        </text>
        <text x={LEFT} y={TOP - 6} className="axis">
          attention heads
        </text>
        <text x={ffnX} y={TOP - 6} className="axis">
          FFN neurons ({bins} bins{ffnPct ? ', least important first' : ''})
        </text>
        {layers.map((shape, l) => {
          const y = TOP + l * ROW;
          const cut = layerCut(plan, l);
          const w = layerWidths(shape, cut);
          const G = shape.numKvHeads > 0 ? shape.numHeads / shape.numKvHeads : 1;
          const binsOf = ffnBins(ffnPct, shape.ffnSize, l, cut, bins);
          return (
            <g key={l} role="row" data-testid="map-layer" className={cut.removed ? 'map-layer removed' : 'map-layer'}>
              <text x={4} y={y + 15} className="axis">
                L{l}
              </text>
              <line x1={LEFT - 22} y1={y + 10} x2={LEFT - 2} y2={y + 10} className="map-branch" />
              {G > 1
                ? Array.from({ length: shape.numKvHeads }, (_, k) => (
                    <rect key={`g${k}`} x={LEFT + k * G * CELL - 1} y={y - 1} width={G * CELL} height={CELL + 4} className="map-group" />
                  ))
                : null}
              {Array.from({ length: shape.numHeads }, (_, h) => {
                const u: MapUnit = { kind: 'head', layer: l, head: h };
                const p = headPct ? headPct[l * shape.numHeads + h]! : NaN;
                const gone = cut.removed || cut.heads.has(h);
                const isFocus = focus[0] === l && focus[1] === h;
                return (
                  <g
                    key={h}
                    role="gridcell"
                    data-testid="map-head"
                    data-cut={gone}
                    aria-selected={isSelected(u)}
                    onClick={() => {
                      setFocus([l, h]);
                      select(u);
                    }}
                  >
                    <rect
                      x={LEFT + h * CELL}
                      y={y + 1}
                      width={CELL - 2}
                      height={CELL}
                      fill={Number.isNaN(p) ? '#bbb' : viridis(p)}
                      opacity={gone ? 0.35 : 1}
                      stroke={isFocus || isSelected(u) ? '#000' : 'none'}
                      strokeWidth={2}
                    />
                    {gone ? <rect x={LEFT + h * CELL} y={y + 1} width={CELL - 2} height={CELL} fill="url(#map-hatch)" /> : null}
                    <title>{`layer ${l}, head ${h}${G > 1 ? ` (kv group ${Math.floor(h / G)})` : ''}${Number.isNaN(p) ? '' : `, percentile ${Math.round(p * 100)}`}${gone ? ', cut by the plan' : ''}`}</title>
                  </g>
                );
              })}
              {binsOf.map((b, i) => {
                const u: MapUnit = { kind: 'ffn', layer: l, bin: i };
                const isFocus = focus[0] === l && focus[1] === shape.numHeads + i;
                return (
                  <g
                    key={`f${i}`}
                    role="gridcell"
                    data-testid="map-ffn-bin"
                    data-cut={b.cut}
                    aria-selected={isSelected(u)}
                    onClick={() => {
                      setFocus([l, shape.numHeads + i]);
                      select(u);
                    }}
                  >
                    <rect
                      x={ffnX + i * BIN}
                      y={y + 1}
                      width={BIN - 1}
                      height={CELL}
                      fill={Number.isNaN(b.mean) ? '#bbb' : viridis(b.mean)}
                      stroke={isFocus || isSelected(u) ? '#000' : 'none'}
                      strokeWidth={1.5}
                    />
                    {b.cut > 0 ? (
                      <rect x={ffnX + i * BIN} y={y + 1} width={BIN - 1} height={CELL * b.cut} className="map-cut" fill="url(#map-hatch)" />
                    ) : null}
                    <title>{`layer ${l}, FFN bin ${i} (${b.to - b.from} neurons${ffnPct ? `, ranks ${b.from}-${b.to - 1} in the layer` : `, ${b.from}-${b.to - 1}`}): ${Math.round(b.cut * (b.to - b.from))} cut`}</title>
                  </g>
                );
              })}
              <text x={textX} y={y + 12} className="axis" data-testid="map-widths">
                {w.heads[0] === w.heads[1] && w.ffn[0] === w.ffn[1]
                  ? `${w.heads[0]} heads${G > 1 ? ` (${w.kvGroups[0]} kv)` : ''} · ${w.ffn[0]} FFN`
                  : `${w.heads[0]}→${w.heads[1]} heads${G > 1 ? ` (${w.kvGroups[0]}→${w.kvGroups[1]} kv)` : ''} · ${w.ffn[0]}→${w.ffn[1]} FFN`}
              </text>
            </g>
          );
        })}
        <rect x={LEFT} y={TOP + layers.length * ROW + 2} width={ffnX + bins * BIN - LEFT} height={18} className="map-box" />
        <text x={LEFT + 6} y={TOP + layers.length * ROW + 15} className="axis">
          Final norm + LM head ({model.spec.tiedEmbeddings ? 'tied to the embeddings' : 'own weights'}) → next-token probabilities
        </text>
      </svg>
      <MapLegend />
      <figcaption aria-live="polite" data-testid="map-readout">
        {focused.kind === 'head' ? `Layer ${focused.layer}, head ${focused.head}` : `Layer ${focused.layer}, FFN bin ${focused.bin}`}
        {plan ? ` · plan ${plan.name}` : ' · no plan yet'}. {scoreNote}
      </figcaption>
      {selected ? <UnitDetail unit={selected} /> : null}
    </figure>
  );
}

/** The colour scale (rank percentile, viridis) and the cut pattern. */
export function MapLegend() {
  const stops = Array.from({ length: 9 }, (_, i) => i / 8);
  return (
    <svg
      className="map-legend"
      data-testid="map-legend"
      width={320}
      height={34}
      role="img"
      aria-label="Legend: dark = least important, bright = most important; hatched and faded = cut by the plan"
    >
      {stops.map((t, i) => (
        <rect key={i} x={i * 20} y={2} width={20} height={12} fill={viridis(t)} />
      ))}
      <text x={0} y={28} className="axis">
        least
      </text>
      <text x={180} y={28} textAnchor="end" className="axis">
        most important
      </text>
      <rect x={200} y={2} width={14} height={12} fill={viridis(0.5)} opacity={0.35} />
      <rect x={200} y={2} width={14} height={12} fill="url(#map-hatch)" />
      <rect x={200} y={2} width={14} height={12} fill="none" stroke="#555" />
      <text x={220} y={12} className="axis">
        cut
      </text>
    </svg>
  );
}
