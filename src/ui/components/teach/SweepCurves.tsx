/**
 * Sweep curves: perplexity (log scale) against the share of heads and FFN neurons removed, one line
 * per computed criterion and the random baseline as mean and min-max band over seeds. Points stream
 * in as the engine computes them; every point is an estimate (masks, no compensation, fewer tokens).
 */
import { useState } from 'react';
import { Area, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { SweepPoint } from '../../../api/types';
import { useStudio } from '../../../store';
import { compensationInfos, type Compensation } from '../../../prune/compensate';
import { unmetNeed } from '../../../prune/method';
import { cancelJob } from '../../jobs';
import { RANDOM_SEEDS, runSweep, SWEEP_FRACTIONS, SWEEP_PROTOCOL } from './teach-actions';
import { useTeach } from './teach-store';

const COMPENSATIONS = compensationInfos();
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#56B4E9', '#E69F00', '#000000', '#F0E442'];

type Row = Record<string, number | [number, number] | undefined> & { pct: number };

/** One chart row per fraction: each criterion's perplexity, the random mean and [min, max]. */
export function sweepRows(points: SweepPoint[]): { rows: Row[]; criteria: string[] } {
  const criteria = [...new Set(points.filter((p) => p.seed === undefined).map((p) => p.series))];
  const fractions = [...new Set(points.map((p) => p.fraction))].sort((a, b) => a - b);
  const rows = fractions.map((f) => {
    const at = points.filter((p) => p.fraction === f);
    const row: Row = { pct: Math.round(f * 100) };
    for (const c of criteria) row[c] = at.find((p) => p.series === c)?.perplexity;
    const random = at.filter((p) => p.seed !== undefined).map((p) => p.perplexity);
    if (random.length) {
      row.random = random.reduce((a, b) => a + b, 0) / random.length;
      row.randomBand = [Math.min(...random), Math.max(...random)];
    }
    return row;
  });
  return { rows, criteria };
}

export function SweepCurves() {
  const model = useStudio((s) => s.model);
  const scores = useStudio((s) => s.scores);
  const job = useStudio((s) => s.job);
  const points = useTeach((s) => s.sweepPoints);
  const tokens = useTeach((s) => s.sweepTokens);
  const sweepable = Object.values(scores)
    .filter((s) => s && (s.heads || s.ffn))
    .map((s) => s!.criterion);
  const [chosen, setChosen] = useState<string[] | null>(null);
  const [seeds, setSeeds] = useState(RANDOM_SEEDS.length);
  const [compensation, setCompensation] = useState<Compensation>('none');
  const calibration = useStudio((s) => s.calibration);
  const shownCompensation = useTeach((s) => s.sweepCompensation);
  const picked = (chosen ?? sweepable).filter((c) => sweepable.includes(c));
  const running = job?.label === 'Sweep';
  const busy = job !== null && !job.id.startsWith('preview-');
  const { rows, criteria } = sweepRows(points);
  const expected = (picked.length + seeds) * SWEEP_FRACTIONS.length;
  return (
    <section className="sweep" aria-labelledby="sweep-title">
      <h3 id="sweep-title">Perplexity vs fraction removed</h3>
      <p className="plain">
        How fast does the model get worse as more of it is cut? A good criterion stays low for longer than cutting at random.
      </p>
      <fieldset className="sweep-controls">
        <legend>Series</legend>
        {sweepable.length === 0 ? (
          <p className="help">Compute a criterion (step 3) to compare it with random; random alone works now.</p>
        ) : null}
        {sweepable.map((c) => (
          <label key={c}>
            <input
              type="checkbox"
              data-testid={`sweep-series-${c}`}
              checked={picked.includes(c)}
              onChange={(e) => setChosen(e.target.checked ? [...picked, c] : picked.filter((x) => x !== c))}
            />{' '}
            {c}
          </label>
        ))}
        <label>
          Random seeds{' '}
          <input
            type="number"
            min={0}
            max={8}
            value={seeds}
            data-testid="sweep-seeds"
            onChange={(e) => setSeeds(Math.max(0, Math.min(8, Number(e.target.value))))}
          />
        </label>
        <label>
          Compensation{' '}
          <select data-testid="sweep-compensation" value={compensation} onChange={(e) => setCompensation(e.target.value as Compensation)}>
            {COMPENSATIONS.map((m) => {
              const unmet = unmetNeed(m.needs, calibration);
              return (
                <option key={m.name} value={m.name} disabled={unmet !== null}>
                  {m.name}
                  {m.name === 'none' ? ' (estimate from masks: fast)' : ' (exact: compensated and sliced as Apply does)'}
                  {unmet ? ' (needs calibration)' : ''}
                </option>
              );
            })}
          </select>
        </label>
      </fieldset>
      <button
        type="button"
        className="button"
        data-testid="sweep-run"
        disabled={!model || busy || picked.length + seeds === 0}
        onClick={() =>
          void runSweep(
            picked,
            Array.from({ length: seeds }, (_, i) => i + 1),
            compensation,
          )
        }
      >
        Run sweep ({expected} points)
      </button>{' '}
      {running && job ? (
        <button type="button" className="button secondary" data-testid="sweep-cancel" onClick={() => cancelJob(job.id)}>
          Cancel sweep
        </button>
      ) : null}
      <p className="hint" data-testid="sweep-status" aria-live="polite">
        {points.length} point{points.length === 1 ? '' : 's'}
        {running ? ' so far' : ''} ·{' '}
        {shownCompensation === 'none' ? (
          <>
            <strong className="badge estimate">estimate</strong>: heads and FFN neurons masked at the same share in every layer (uniform),
            no compensation,
          </>
        ) : (
          <>
            <strong className="badge exact">exact</strong>: each plan compensated ({shownCompensation}) and sliced as Apply builds it,
          </>
        )}{' '}
        {tokens || SWEEP_PROTOCOL.maxTokens} tokens of evaluation.txt (the evaluation protocol uses 8,192).
      </p>
      {rows.length > 0 ? (
        <figure>
          <ResponsiveContainer width="100%" height={300}>
            <ComposedChart data={rows} margin={{ left: 8, right: 16, top: 8, bottom: 28 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis
                dataKey="pct"
                type="number"
                domain={[0, 90]}
                unit="%"
                label={{ value: 'heads and FFN removed', position: 'insideBottom', offset: -8 }}
              />
              <YAxis scale="log" domain={['auto', 'auto']} allowDataOverflow width={64} tickFormatter={(v: number) => v.toPrecision(3)} />
              <Tooltip formatter={(v) => (Array.isArray(v) ? v.map((x) => Number(x).toFixed(2)).join(' – ') : Number(v).toFixed(2))} />
              <Legend />
              <Area dataKey="randomBand" name="random (min–max)" fill="#999" stroke="none" fillOpacity={0.3} isAnimationActive={false} />
              <Line
                dataKey="random"
                name="random (mean)"
                stroke="#666"
                strokeDasharray="5 4"
                dot={false}
                isAnimationActive={false}
                connectNulls
              />
              {criteria.map((c, i) => (
                <Line key={c} dataKey={c} stroke={COLOURS[i % COLOURS.length]} isAnimationActive={false} connectNulls />
              ))}
            </ComposedChart>
          </ResponsiveContainer>
          <figcaption>
            Perplexity (log scale, lower is better) of the masked model; each criterion ranks units, random picks them by chance.
          </figcaption>
        </figure>
      ) : null}
      {rows.length > 0 ? (
        <table className="sweep-table" data-testid="sweep-table">
          <caption>Sweep points ({shownCompensation === 'none' ? 'estimates' : `exact, ${shownCompensation}`})</caption>
          <thead>
            <tr>
              <th scope="col">Removed</th>
              {criteria.map((c) => (
                <th scope="col" key={c}>
                  {c}
                </th>
              ))}
              <th scope="col">random mean (min–max)</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.pct}>
                <th scope="row">{r.pct}%</th>
                {criteria.map((c) => (
                  <td key={c}>{typeof r[c] === 'number' ? (r[c] as number).toFixed(2) : '…'}</td>
                ))}
                <td>
                  {typeof r.random === 'number'
                    ? `${r.random.toFixed(2)} (${(r.randomBand as [number, number])[0].toFixed(2)}–${(r.randomBand as [number, number])[1].toFixed(2)})`
                    : '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
