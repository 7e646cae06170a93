/** SlimGPT: layer-wise structured OBS with sequential calibration; targets, allocation, per-layer record. */
import { useState } from 'react';
import { useStudio } from '../../../store';
import type { SlimGptAllocation } from '../../../prune/slimgpt';
import { fixed } from '../../format';
import { runSlimGpt } from '../../method-actions';
import { Explain } from '../Explain';
import { PercentField } from './PercentField';

const ALLOCATION_OPTIONS: [SlimGptAllocation, string][] = [
  ['uniform', 'uniform'],
  ['incremental', 'incremental (fewer in early layers)'],
];

function LayerTable() {
  const layers = useStudio((s) => s.slimGptLayers);
  if (!layers.length) return null;
  return (
    <table className="compact-table" data-testid="slimgpt-layers">
      <thead>
        <tr>
          <th scope="col">Layer</th>
          <th scope="col" title="Heads in the order the greedy search removed them">
            Heads (order)
          </th>
          <th scope="col" title="FFN channels removed, in dynamic groups (hover a cell for the sizes)">
            FFN
          </th>
          <th scope="col">Time</th>
        </tr>
      </thead>
      <tbody>
        {layers.map((l) => (
          <tr key={l.layer}>
            <td>{l.layer}</td>
            <td title={l.headErrors.map((e) => e.toExponential(2)).join(', ')}>{l.headOrder.length ? l.headOrder.join(' → ') : '—'}</td>
            <td title={l.ffnGroups.length ? `group sizes ${l.ffnGroups.join(' + ')}` : undefined}>
              {l.ffnGroups.length ? `${l.removedFfn.length} (${l.ffnGroups.length} groups)` : '—'}
            </td>
            <td title={`float64 algebra on ${l.threads} thread${l.threads === 1 ? '' : 's'}`}>{fixed(l.ms / 1000, 1)} s</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function SlimGptBlock() {
  const calibration = useStudio((s) => s.calibration);
  const busy = useStudio((s) => s.job !== null && !s.job.id.startsWith('preview-'));
  const [heads, setHeads] = useState(30);
  const [ffn, setFfn] = useState(30);
  const [allocation, setAllocation] = useState<SlimGptAllocation>('uniform');
  return (
    <details className="card iterative">
      <summary>SlimGPT (layer-wise OBS)</summary>
      {!calibration ? (
        <p className="hint">Needs calibration (step 2): every layer&apos;s Hessians are taken on the calibration set.</p>
      ) : null}
      <PercentField id="sg-heads" label="Heads removed" value={heads} onChange={setHeads} />
      <PercentField id="sg-ffn" label="FFN channels removed" value={ffn} onChange={setFfn} />
      <div className="field">
        <label htmlFor="sg-allocation">Per-layer ratio</label>
        <select id="sg-allocation" value={allocation} onChange={(e) => setAllocation(e.target.value as SlimGptAllocation)}>
          {ALLOCATION_OPTIONS.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <button
        type="button"
        className="button secondary"
        data-testid="slimgpt-run"
        disabled={busy || !calibration}
        onClick={() => void runSlimGpt({ heads: heads / 100, ffn: ffn / 100, allocation })}
      >
        Run SlimGPT
      </button>
      <LayerTable />
      <Explain plain="Prune one layer at a time and re-tune what is left so each layer keeps doing its job.">
        SlimGPT (Ling et al., 2024) prunes one layer at a time, in order. For each layer it takes the Hessian of the output
        projection&apos;s inputs on the calibration set, removes heads one by one, always the one whose removal costs least after an optimal
        re-fit of the remaining heads (grouped Cholesky error), and applies that re-fit (an OBS weight update); then it takes the Hessian of
        the down projection&apos;s inputs again, now with this layer&apos;s heads gone, and removes FFN channels in shrinking groups
        (dynamic group size), re-fitting after each group. The next layer&apos;s statistics already see the pruned layers before it.
        Incremental removes fewer units in early layers and more in later ones (SlimGPT&apos;s log-increase ratio). The result becomes the
        applied model.
      </Explain>
    </details>
  );
}
