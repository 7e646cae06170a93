/** Details of a unit clicked on the model map: its scores under every computed criterion, what the plan does to it. */
import { useStudio } from '../../../store';
import { binRange, FFN_BINS, layerCut, percentiles } from './map-model';
import { useTeach, type MapUnit } from './teach-store';

export function UnitDetail({ unit }: { unit: MapUnit }) {
  const model = useStudio((s) => s.model);
  const scores = useStudio((s) => s.scores);
  const rawPlan = useStudio((s) => s.plan);
  const patch = useTeach((s) => s.patch);
  if (!model) return null;
  const shape = model.layers[unit.layer];
  if (!shape) return null;
  const plan = rawPlan && rawPlan.model.name === model.name ? rawPlan : null;
  const cut = layerCut(plan, unit.layer);
  const computed = Object.values(scores).filter((s) => s !== undefined);
  const G = shape.numKvHeads > 0 ? shape.numHeads / shape.numKvHeads : 1;
  if (unit.kind === 'head') {
    const i = unit.layer * shape.numHeads + unit.head;
    const gone = cut.removed || cut.heads.has(unit.head);
    return (
      <section className="unit-detail" data-testid="unit-detail" aria-label={`Layer ${unit.layer}, head ${unit.head}`}>
        <h4>
          Layer {unit.layer}, head {unit.head}
          {G > 1 ? ` · kv group ${Math.floor(unit.head / G)} (shares keys and values with ${G - 1} other heads)` : ''}
          {gone ? ' · cut by the plan' : ''}
        </h4>
        {computed.length === 0 ? <p className="help">No criterion computed yet.</p> : null}
        <table className="unit-scores">
          <thead>
            <tr>
              <th scope="col">Criterion</th>
              <th scope="col">Score</th>
              <th scope="col">Percentile among heads</th>
            </tr>
          </thead>
          <tbody>
            {computed.map((s) => (
              <tr key={s.criterion} data-testid="unit-score-row">
                <th scope="row">{s.criterion}</th>
                <td>{s.heads ? s.heads[i]!.toPrecision(4) : '—'}</td>
                <td>{s.heads ? Math.round(percentiles(s.heads)[i]! * 100) : 'scores layers only'}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <button
          type="button"
          className="button small"
          data-testid="show-attention"
          onClick={() => patch({ attentionHead: { layer: unit.layer, head: unit.head }, tab: 'attention' })}
        >
          Attention pattern of this head
        </button>
      </section>
    );
  }
  const bins = Math.min(FFN_BINS, shape.ffnSize);
  const [from, to] = binRange(shape.ffnSize, bins, unit.bin);
  let removed = 0;
  for (let j = from; j < to; j++) if (cut.removed || cut.ffn.has(j)) removed++;
  return (
    <section className="unit-detail" data-testid="unit-detail" aria-label={`Layer ${unit.layer}, FFN neurons ${from} to ${to - 1}`}>
      <h4>
        Layer {unit.layer}, FFN neurons {from}–{to - 1} · {removed} of {to - from} cut
      </h4>
      <table className="unit-scores">
        <thead>
          <tr>
            <th scope="col">Criterion</th>
            <th scope="col">Mean score</th>
            <th scope="col">Mean percentile among neurons</th>
          </tr>
        </thead>
        <tbody>
          {computed.map((s) => {
            const pct = s.ffn ? percentiles(s.ffn) : null;
            let sum = 0;
            let psum = 0;
            for (let j = from; j < to; j++) {
              sum += s.ffn?.[unit.layer * shape.ffnSize + j] ?? 0;
              psum += pct?.[unit.layer * shape.ffnSize + j] ?? 0;
            }
            return (
              <tr key={s.criterion} data-testid="unit-score-row">
                <th scope="row">{s.criterion}</th>
                <td>{s.ffn ? (sum / (to - from)).toPrecision(4) : '—'}</td>
                <td>{pct ? Math.round((psum / (to - from)) * 100) : 'not scored'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
