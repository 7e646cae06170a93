/** Details of a unit clicked on the model map: its scores under every computed criterion, what the plan does to it. */
import { useStudio } from '../../../store';
import { ffnBins, FFN_BINS, layerCut, percentiles } from './map-model';
import { useTeach, type MapUnit } from './teach-store';

export function UnitDetail({ unit }: { unit: MapUnit }) {
  const model = useStudio((s) => s.model);
  const scores = useStudio((s) => s.scores);
  const rawPlan = useStudio((s) => s.plan);
  const criterion = useStudio((s) => s.selectedCriterion);
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
  const selectedScores = scores[criterion];
  const pctSel = selectedScores?.ffn ? percentiles(selectedScores.ffn) : null;
  const bin = ffnBins(pctSel, shape.ffnSize, unit.layer, cut, FFN_BINS)[unit.bin];
  if (!bin) return null;
  const order = Array.from({ length: shape.ffnSize }, (_, j) => j);
  if (pctSel) order.sort((a, b) => pctSel[unit.layer * shape.ffnSize + a]! - pctSel[unit.layer * shape.ffnSize + b]!);
  const members = order.slice(bin.from, bin.to);
  const removed = Math.round(bin.cut * members.length);
  return (
    <section className="unit-detail" data-testid="unit-detail" aria-label={`Layer ${unit.layer}, FFN bin ${unit.bin}`}>
      <h4>
        Layer {unit.layer}, FFN neurons {pctSel ? `ranked ${bin.from}–${bin.to - 1} by ${criterion}` : `${bin.from}–${bin.to - 1}`} ·{' '}
        {removed} of {members.length} cut
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
            for (const j of members) {
              sum += s.ffn?.[unit.layer * shape.ffnSize + j] ?? 0;
              psum += pct?.[unit.layer * shape.ffnSize + j] ?? 0;
            }
            return (
              <tr key={s.criterion} data-testid="unit-score-row">
                <th scope="row">{s.criterion}</th>
                <td>{s.ffn ? (sum / members.length).toPrecision(4) : '—'}</td>
                <td>{pct ? Math.round((psum / members.length) * 100) : 'not scored'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
