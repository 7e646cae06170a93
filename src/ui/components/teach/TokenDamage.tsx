/**
 * Token damage: a short text with every token coloured by how much its loss changed from the dense
 * to the pruned model (blue = better, orange = worse; a diverging, colour-blind-safe scale), and
 * the tokens that got most worse. The pruned side is the current plan (masks), else the applied model.
 */
import { useEffect, useState } from 'react';
import { useStudio } from '../../../store';
import { fetchEvaluationText } from '../../actions';
import { runTokenLoss } from './teach-actions';
import { useTeach } from './teach-store';

const SCALE = 2; // nats at full colour

/** Diverging colour for a loss change in nats: blue (lower) - white - orange-red (higher). */
export function deltaColor(d: number): string {
  const t = Math.max(-1, Math.min(1, (Number.isFinite(d) ? d : 0) / SCALE));
  const mix = (a: number, b: number) => Math.round(255 + (b - 255) * Math.abs(t));
  return t >= 0 ? `rgb(${mix(255, 213)},${mix(255, 94)},${mix(255, 0)})` : `rgb(${mix(255, 0)},${mix(255, 114)},${mix(255, 178)})`;
}

const show = (piece: string) => piece.replace(/\n/g, '⏎').replace(/ /g, '·');

export function TokenDamage() {
  const model = useStudio((s) => s.model);
  const plan = useStudio((s) => s.plan);
  const applied = useStudio((s) => s.applied);
  const busy = useStudio((s) => s.job !== null && !s.job.id.startsWith('preview-'));
  const result = useTeach((s) => s.tokenLoss);
  const [text, setText] = useState('');
  useEffect(() => {
    let live = true;
    void fetchEvaluationText()
      .then((t) => live && setText((cur) => cur || t.slice(0, 500)))
      .catch(() => {});
    return () => {
      live = false;
    };
  }, []);
  const hasPruned = (plan && model && plan.model.name === model.name) || applied;
  const deltas = result ? result.pruned.map((p, i) => p - result.dense[i]!) : [];
  const worst = result
    ? deltas
        .map((d, i) => ({ i, d }))
        .filter((x) => x.i > 0)
        .sort((a, b) => b.d - a.d)
        .slice(0, 10)
    : [];
  const mean = (xs: number[]) => xs.slice(1).reduce((a, b) => a + b, 0) / Math.max(1, xs.length - 1);
  return (
    <section className="token-damage" aria-labelledby="damage-title">
      <h3 id="damage-title">Token damage</h3>
      <p className="plain">Which words did pruning make harder to predict? Orange tokens got worse, blue ones got easier.</p>
      <div className="field">
        <label htmlFor="damage-text">Text (up to 128 tokens are scored)</label>
        <textarea id="damage-text" rows={3} value={text} onChange={(e) => setText(e.target.value)} />
      </div>
      <button
        type="button"
        className="button"
        data-testid="damage-run"
        disabled={!model || busy || !hasPruned || text.trim() === ''}
        onClick={() => void runTokenLoss(text)}
      >
        Show token damage
      </button>
      {!hasPruned ? <p className="help">Move a pruning slider or apply a plan first: the pruned side is what the plan cuts.</p> : null}
      {result ? (
        <>
          <p className="hint" data-testid="damage-summary">
            Pruned side:{' '}
            {result.prunedFrom === 'plan' ? 'the current plan, masked on the dense model (no compensation)' : 'the applied model'}.
            Perplexity on this text: dense {Math.exp(mean(result.dense)).toFixed(2)} → pruned {Math.exp(mean(result.pruned)).toFixed(2)}.
          </p>
          <p className="damage-text" data-testid="damage-tokens">
            {result.pieces.map((piece, i) => (
              <span
                key={i}
                className="damage-token"
                style={{ background: deltaColor(deltas[i]!) }}
                title={
                  i === 0
                    ? 'first token: no context, not scored'
                    : `loss ${result.dense[i]!.toFixed(2)} → ${result.pruned[i]!.toFixed(2)} nats (${deltas[i]! >= 0 ? '+' : ''}${deltas[i]!.toFixed(2)})`
                }
              >
                {piece}
              </span>
            ))}
          </p>
          <DamageLegend />
          <table className="damage-worst" data-testid="damage-worst">
            <caption>Tokens that got most worse</caption>
            <thead>
              <tr>
                <th scope="col">Token</th>
                <th scope="col">Dense loss</th>
                <th scope="col">Pruned loss</th>
                <th scope="col">Change (nats)</th>
              </tr>
            </thead>
            <tbody>
              {worst.map(({ i, d }) => (
                <tr key={i}>
                  <th scope="row">
                    <code>{show(result.pieces[i]!)}</code>{' '}
                    <span className="help">after “{result.pieces.slice(Math.max(0, i - 4), i).join('')}”</span>
                  </th>
                  <td>{result.dense[i]!.toFixed(2)}</td>
                  <td>{result.pruned[i]!.toFixed(2)}</td>
                  <td>{(d >= 0 ? '+' : '') + d.toFixed(2)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}

function DamageLegend() {
  const stops = [-2, -1, 0, 1, 2];
  return (
    <div
      className="damage-legend"
      data-testid="damage-legend"
      role="img"
      aria-label="Legend: blue = loss went down, white = unchanged, orange = loss went up, full colour at 2 nats"
    >
      {stops.map((d) => (
        <span key={d} style={{ background: deltaColor(d) }}>
          {d > 0 ? `+${d}` : d}
        </span>
      ))}{' '}
      nats change in loss (−log p)
    </div>
  );
}
