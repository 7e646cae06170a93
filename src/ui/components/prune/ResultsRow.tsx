/**
 * Bottom row: the table of applied plans of the loaded model (downloadable as CSV and JSON), a
 * Pareto chart (perplexity on the evaluation or the held-out text vs parameters, latency or model
 * size, an SVG scatter (./ParetoScatter), points numbered and listed, quantized variants marked by dtype)
 * and the dense vs pruned text compare.
 */
import { useMemo, useState } from 'react';
import { useStudio } from '../../../store';
import { modelKey } from '../../../store/model-key';
import type { ResultRow } from '../../../store/results';
import { bytes, compactCount, fixed } from '../../format';
import { download } from '../../download';
import { resultsCsv, resultsJson } from '../../results-file';
import { ParetoScatter } from './ParetoScatter';
import { markOf, type Axis } from './pareto-marks';

const r2 = (v: number) => fixed(v);
import { TextCompare } from './TextCompare';
import { isClassifier } from '../../vision-actions';
import { VisionCompare } from '../vision/VisionCompare';
import { pct } from '../vision/AccuracyFigure';

/** This model's rows (name + fingerprint); rows of other models stay stored, unseen. */
function useModelRows(): { rows: ResultRow[]; others: number } {
  const all = useStudio((s) => s.results);
  const key = useStudio((s) => modelKey(s.model));
  const rows = useMemo(() => all.filter((r) => r.model === key), [all, key]);
  return { rows, others: all.length - rows.length };
}

function ResultsTable() {
  const { rows, others } = useModelRows();
  const model = useStudio((s) => s.model);
  const remove = useStudio((s) => s.removeResult);
  const dense = useStudio((s) => s.densePerplexity);
  const denseHeldOut = useStudio((s) => s.denseHeldOut);
  const classifier = isClassifier(model);
  const denseAcc = useStudio((s) => s.denseAccuracy);
  const base = `${(model?.name ?? 'model').replace(/[^\w.-]+/g, '_')}-results`;
  return (
    <section className="card results" aria-labelledby="results-title">
      <h3 id="results-title">Results{model ? ` · ${model.name}` : ''}</h3>
      <div className="button-row">
        <button
          type="button"
          className="button secondary small"
          data-testid="results-csv"
          disabled={rows.length === 0}
          onClick={() => download(`${base}.csv`, new Blob([resultsCsv(rows)], { type: 'text/csv' }))}
        >
          Download CSV
        </button>
        <button
          type="button"
          className="button secondary small"
          data-testid="results-json"
          disabled={rows.length === 0}
          onClick={() => download(`${base}.json`, new Blob([resultsJson(rows, model)], { type: 'application/json' }))}
        >
          Download JSON
        </button>
      </div>
      {others > 0 ? (
        <p className="hint" data-testid="results-other-models">
          {others} result{others === 1 ? '' : 's'} of other models kept; load that model to see {others === 1 ? 'it' : 'them'}.
        </p>
      ) : null}
      {dense && denseHeldOut ? (
        <p className="hint" data-testid="results-dense">
          Dense model: {fixed(dense.perplexity)} on {dense.protocol.textName}, {fixed(denseHeldOut.perplexity)} on{' '}
          {denseHeldOut.protocol.textName} (e-mails: a kind of text the model never saw).
        </p>
      ) : null}
      {classifier && denseAcc ? (
        <p className="hint" data-testid="results-dense-accuracy">
          Dense model: {pct(denseAcc.accuracy)} top-1 (95% CI {pct(denseAcc.interval95[0])} – {pct(denseAcc.interval95[1])}), mean loss{' '}
          {fixed(denseAcc.meanLoss, 3)} on {denseAcc.images} {denseAcc.protocol.dataset} images.
        </p>
      ) : null}
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
                <th scope="col">dtype</th>
                <th scope="col">Params</th>
                <th scope="col">Size</th>
                {classifier ? (
                  <>
                    <th scope="col" title="Top-1 accuracy on the test images, with its Wilson 95% confidence interval">
                      Top-1 (95% CI)
                    </th>
                    <th scope="col" title="Mean cross-entropy of the true label over the test images">
                      Mean loss
                    </th>
                  </>
                ) : (
                  <>
                    <th scope="col" title="Perplexity on evaluation.txt (same domain as the demo model's training text)">
                      Perplexity
                    </th>
                    <th
                      scope="col"
                      title="Perplexity on heldout.txt: e-mails, a kind of text the model never saw in training or calibration"
                    >
                      Held-out
                    </th>
                  </>
                )}
                <th scope="col">Latency (ms)</th>
                <th scope="col">
                  <span className="visually-hidden">Remove</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id} data-testid="result-row" data-dtype={r.dtype ?? 'fp32'}>
                  <td>{r.plan}</td>
                  <td>{r.criterion}</td>
                  <td>{r.allocation}</td>
                  <td>{r.compensation}</td>
                  <td>{r.dtype ?? 'fp32'}</td>
                  <td>{compactCount(r.parameters)}</td>
                  <td title={r.bytes === undefined ? 'fp32 weights: 4 bytes per parameter' : 'the quantized model file'}>
                    {r.bytes === undefined ? `≈${bytes(4 * r.parameters)}` : bytes(r.bytes)}
                  </td>
                  {classifier ? (
                    <>
                      <td data-testid="result-accuracy">
                        {r.accuracy ? `${pct(r.accuracy.top1)} (${pct(r.accuracy.ci[0])} – ${pct(r.accuracy.ci[1])})` : '—'}
                      </td>
                      <td>{r.accuracy ? fixed(r.accuracy.meanLoss, 3) : '—'}</td>
                    </>
                  ) : (
                    <>
                      <td data-testid="result-ppl">{fixed(r.perplexity)}</td>
                      <td data-testid="heldout-ppl">{typeof r.heldOutPerplexity === 'number' ? fixed(r.heldOutPerplexity) : '—'}</td>
                    </>
                  )}
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

function xOf(axis: Axis, r: ResultRow): number {
  if (axis === 'parameters') return r.parameters / 1e6;
  if (axis === 'latency') return r.latencyMs;
  return (r.bytes ?? 4 * r.parameters) / 1e6;
}

function Pareto() {
  const { rows } = useModelRows();
  const dense = useStudio((s) => s.densePerplexity);
  const denseLat = useStudio((s) => s.denseLatency);
  const model = useStudio((s) => s.model);
  const denseAcc = useStudio((s) => s.denseAccuracy);
  const denseHeldOut = useStudio((s) => s.denseHeldOut);
  const classifier = isClassifier(model);
  const [text, setText] = useState<'evaluation' | 'heldOut'>('evaluation');
  const heldOut = !classifier && text === 'heldOut';
  const metric = classifier ? 'top-1 accuracy (%)' : heldOut ? 'held-out perplexity' : 'perplexity';
  const yOf = (r: ResultRow) =>
    classifier ? (r.accuracy ? r.accuracy.top1 * 100 : NaN) : heldOut ? (r.heldOutPerplexity ?? NaN) : r.perplexity;
  const [axis, setAxis] = useState<Axis>('parameters');
  const points = rows
    .filter((r) => Number.isFinite(xOf(axis, r)))
    .filter((r) => Number.isFinite(yOf(r)))
    .map((r, i) => ({ x: xOf(axis, r), y: yOf(r), name: r.plan, dtype: r.dtype ?? 'fp32', label: `${i + 1}` }));
  const dtypes = [...new Set(points.map((p) => p.dtype))];
  const denseX = !model
    ? null
    : axis === 'parameters'
      ? model.parameters / 1e6
      : axis === 'size'
        ? model.weightBytes / 1e6
        : (denseLat?.medianMs ?? null);
  const denseY = classifier ? (denseAcc ? denseAcc.accuracy * 100 : null) : ((heldOut ? denseHeldOut : dense)?.perplexity ?? null);
  const densePoint = denseY !== null && denseX !== null ? [{ x: denseX, y: denseY, name: 'dense' }] : [];
  return (
    <section className="card pareto" aria-labelledby="pareto-title">
      <h3 id="pareto-title">
        Pareto: {classifier ? 'accuracy' : heldOut ? 'held-out perplexity' : 'perplexity'} vs {axis}
      </h3>
      <div className="field inline">
        <label htmlFor="pareto-axis">x axis</label>
        <select id="pareto-axis" data-testid="pareto-axis" value={axis} onChange={(e) => setAxis(e.target.value as Axis)}>
          <option value="parameters">parameters (M)</option>
          <option value="latency">latency (ms)</option>
          <option value="size">model size (MB)</option>
        </select>
        {classifier ? null : (
          <>
            <label htmlFor="pareto-text">perplexity on</label>
            <select
              id="pareto-text"
              data-testid="pareto-text"
              value={text}
              onChange={(e) => setText(e.target.value as 'evaluation' | 'heldOut')}
            >
              <option value="evaluation">evaluation text</option>
              <option value="heldOut">held-out text</option>
            </select>
          </>
        )}
      </div>
      <div
        className="chart"
        data-testid="pareto-chart"
        role="img"
        aria-label={`Scatter of ${points.length} applied plans and quantized variants: ${metric} against ${axis}`}
      >
        <ParetoScatter axis={axis} metric={metric} points={points} densePoint={densePoint} dtypes={dtypes} />
      </div>
      <p className="hint" data-testid="pareto-marks">
        Orange diamond: dense model. {dtypes.map((d) => `${markOf(d).shape}: ${d === 'fp32' ? 'applied plans (fp32)' : d}`).join(' · ')}
        {dtypes.length
          ? '; numbered as in the list below (' + (classifier ? 'upper-left' : 'lower-left') + ' is better; y is ' + metric + ').'
          : ''}
      </p>
      {points.length > 0 ? (
        <ol className="point-legend" data-testid="pareto-labels">
          {points.map((p) => (
            <li key={p.label} data-dtype={p.dtype}>
              {p.name}
              {p.dtype === 'fp32' ? '' : ` [${p.dtype}]`} ({r2(p.x)}, {r2(p.y)})
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  );
}

/** Dense vs pruned: generated text for language models, the image grid and confusion matrix for classifiers. */
function CompareByKind() {
  const classifier = useStudio((s) => isClassifier(s.model));
  return classifier ? <VisionCompare /> : <TextCompare />;
}

export function ResultsRow() {
  return (
    <section className="bottom-row" aria-label="Results and comparison">
      <ResultsTable />
      <Pareto />
      <CompareByKind />
    </section>
  );
}
