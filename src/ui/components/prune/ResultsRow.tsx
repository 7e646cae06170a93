/**
 * Bottom row: the table of applied plans, a Pareto chart (perplexity vs parameters or latency,
 * recharts scatter) and the dense vs pruned text compare.
 */
import { useState } from 'react';
import { CartesianGrid, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import { useStudio } from '../../../store';
import { compactCount, fixed } from '../../format';
import { TextCompare } from './TextCompare';

function ResultsTable() {
  const rows = useStudio((s) => s.results);
  const remove = useStudio((s) => s.removeResult);
  return (
    <section className="card results" aria-labelledby="results-title">
      <h3 id="results-title">Results</h3>
      {rows.length === 0 ? (
        <p className="placeholder">Each applied plan adds a row here.</p>
      ) : (
        <div className="table-scroll">
          <table className="compact-table" data-testid="results-table">
            <thead>
              <tr>
                <th scope="col">Plan</th>
                <th scope="col">Criterion</th>
                <th scope="col">Allocation</th>
                <th scope="col">Compensation</th>
                <th scope="col">Params</th>
                <th scope="col">Perplexity</th>
                <th scope="col">Latency (ms)</th>
                <th scope="col">
                  <span className="visually-hidden">Remove</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id}>
                  <td>{r.plan}</td>
                  <td>{r.criterion}</td>
                  <td>{r.allocation}</td>
                  <td>{r.compensation}</td>
                  <td>{compactCount(r.parameters)}</td>
                  <td>{fixed(r.perplexity)}</td>
                  <td>{Number.isFinite(r.latencyMs) ? fixed(r.latencyMs) : '—'}</td>
                  <td>
                    <button type="button" className="link" aria-label={`Remove result ${r.plan}`} onClick={() => remove(r.id)}>
                      ×
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Pareto() {
  const rows = useStudio((s) => s.results);
  const dense = useStudio((s) => s.densePerplexity);
  const denseLat = useStudio((s) => s.denseLatency);
  const model = useStudio((s) => s.model);
  const [axis, setAxis] = useState<'parameters' | 'latency'>('parameters');
  const x = (r: { parameters: number; latencyMs: number }) => (axis === 'parameters' ? r.parameters / 1e6 : r.latencyMs);
  const points = rows.filter((r) => Number.isFinite(x(r))).map((r) => ({ x: x(r), y: r.perplexity, name: r.plan }));
  const densePoint =
    dense && model && (axis === 'parameters' || denseLat)
      ? [{ x: axis === 'parameters' ? model.parameters / 1e6 : (denseLat?.medianMs ?? 0), y: dense.perplexity, name: 'dense' }]
      : [];
  return (
    <section className="card pareto" aria-labelledby="pareto-title">
      <h3 id="pareto-title">Pareto: perplexity vs {axis}</h3>
      <div className="field inline">
        <label htmlFor="pareto-axis">x axis</label>
        <select
          id="pareto-axis"
          data-testid="pareto-axis"
          value={axis}
          onChange={(e) => setAxis(e.target.value as 'parameters' | 'latency')}
        >
          <option value="parameters">parameters (M)</option>
          <option value="latency">latency (ms)</option>
        </select>
      </div>
      <div
        className="chart"
        data-testid="pareto-chart"
        role="img"
        aria-label={`Scatter of ${points.length} applied plans: perplexity against ${axis}`}
      >
        <ResponsiveContainer width="100%" height={220}>
          <ScatterChart margin={{ top: 8, right: 12, bottom: 24, left: 8 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis
              type="number"
              dataKey="x"
              name={axis}
              unit={axis === 'parameters' ? ' M' : ' ms'}
              domain={['auto', 'auto']}
              label={{ value: axis === 'parameters' ? 'parameters (M)' : 'latency (ms)', position: 'bottom' }}
            />
            <YAxis type="number" dataKey="y" name="perplexity" domain={['auto', 'auto']} width={48} />
            <Tooltip formatter={(v) => (typeof v === 'number' ? fixed(v) : String(v))} labelFormatter={() => ''} />
            <Scatter name="dense" data={densePoint} fill="#E69F00" shape="diamond" />
            <Scatter name="pruned" data={points} fill="#0072B2" />
          </ScatterChart>
        </ResponsiveContainer>
      </div>
      <p className="hint">Orange diamond: dense model. Blue: applied plans (lower-left is better).</p>
    </section>
  );
}

export function ResultsRow() {
  return (
    <section className="bottom-row" aria-label="Results and comparison">
      <ResultsTable />
      <Pareto />
      <TextCompare />
    </section>
  );
}
