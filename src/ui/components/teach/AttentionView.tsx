/**
 * Attention patterns: for a sentence the user types, the attention probabilities of one head
 * (rows: the token doing the looking, columns: the tokens it looks at; viridis, bright = more), any
 * head of any layer; "knock out this head" masks it and shows how the next-token distribution moves.
 */
import { useState } from 'react';
import type { AttentionResult } from '../../../api/types';
import { showPiece, TopTokensTable } from './TopTokens';
import { useStudio } from '../../../store';
import { viridis } from '../importance/colors';
import { runAttention } from './teach-actions';
import { useTeach } from './teach-store';

const show = showPiece;

export function AttentionView() {
  const model = useStudio((s) => s.model);
  const busy = useStudio((s) => s.job !== null && !s.job.id.startsWith('preview-'));
  const result = useTeach((s) => s.attention);
  const { layer, head } = useTeach((s) => s.attentionHead);
  const patch = useTeach((s) => s.patch);
  const [text, setText] = useState('The old man looked at the sea and');
  if (!model) return <p className="help">Load a model (step 1) first.</p>;
  const H = model.layers[layer]?.numHeads ?? 0;
  const G = (model.layers[layer]?.numKvHeads ?? 0) > 0 ? H / model.layers[layer]!.numKvHeads : 1;
  const ko = result?.knockedOut;
  const koMatches = ko?.heads.length === 1 && ko.heads[0]!.layer === layer && ko.heads[0]!.head === head;
  return (
    <section className="attention-view" aria-labelledby="attention-title">
      <h3 id="attention-title">Attention patterns</h3>
      <p className="plain">Each head decides, for every word, which earlier words to look at. Bright squares are where it looks most.</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void runAttention(text);
        }}
      >
        <div className="field">
          <label htmlFor="attention-text">Sentence</label>
          <input id="attention-text" type="text" value={text} onChange={(e) => setText(e.target.value)} data-testid="attention-text" />
        </div>
        <div className="gen-settings">
          <label>
            Layer{' '}
            <select
              data-testid="attention-layer"
              value={layer}
              onChange={(e) =>
                patch({
                  attentionHead: {
                    layer: Number(e.target.value),
                    head: Math.min(head, (model.layers[Number(e.target.value)]?.numHeads ?? 1) - 1),
                  },
                })
              }
            >
              {model.layers.map((_, l) => (
                <option key={l} value={l}>
                  {l}
                </option>
              ))}
            </select>
          </label>
          <label>
            Head{' '}
            <select
              data-testid="attention-head"
              value={head}
              onChange={(e) => patch({ attentionHead: { layer, head: Number(e.target.value) } })}
            >
              {Array.from({ length: H }, (_, h) => (
                <option key={h} value={h}>
                  {h}
                  {G > 1 ? ` (kv group ${Math.floor(h / G)})` : ''}
                </option>
              ))}
            </select>
          </label>
        </div>
        <button type="submit" className="button" data-testid="attention-run" disabled={busy || text.trim() === ''}>
          Show attention
        </button>{' '}
        <button
          type="button"
          className="button secondary"
          data-testid="knockout"
          disabled={busy || text.trim() === '' || !result}
          onClick={() => void runAttention(text, { layer, head })}
        >
          Knock out this head
        </button>
      </form>
      {result ? <AttentionGrid result={result} layer={layer} head={head} /> : null}
      {result ? (
        <div className="next-tokens">
          <TopTokensTable caption="Next token (dense)" tokens={result.next} testId="next-dense" />
          {ko && koMatches ? (
            <>
              <TopTokensTable
                caption={`Next token with layer ${layer}, head ${head} knocked out`}
                tokens={ko.next}
                testId="next-knockout"
              />
              <table data-testid="knockout-change">
                <caption>Change of the dense top tokens · KL {ko.kl.toExponential(2)} nats</caption>
                <tbody>
                  {result.next.map((t, i) => (
                    <tr key={t.id}>
                      <th scope="row">
                        <code>{show(t.text)}</code>
                      </th>
                      <td>
                        {(t.prob * 100).toFixed(1)}% → {((ko.denseTopNow[i]?.prob ?? 0) * 100).toFixed(1)}%
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

function AttentionGrid({ result, layer, head }: { result: AttentionResult; layer: number; head: number }) {
  const n = result.ids.length;
  const H = result.heads[layer] ?? 0;
  const probs = result.probs[layer];
  if (!probs || head >= H) return <p className="help">This layer has no heads.</p>;
  const cell = Math.max(8, Math.min(22, Math.floor(440 / n)));
  const label = 90;
  const at = (q: number, k: number) => probs[(head * n + q) * n + k] ?? 0;
  const peaks = Array.from({ length: n }, (_, q) => {
    let best = 0;
    for (let k = 1; k <= q; k++) if (at(q, k) > at(q, best)) best = k;
    return best;
  });
  return (
    <figure className="attention-grid">
      <svg
        data-testid="attention-map"
        role="img"
        width={label + n * cell + 4}
        height={label + n * cell + 4}
        aria-label={`Layer ${layer}, head ${head}: ${result.pieces
          .map((p, q) => `"${p.trim()}" looks most at "${result.pieces[peaks[q]!]!.trim()}"`)
          .join('; ')}`}
      >
        {result.pieces.map((p, k) => (
          <text key={`c${k}`} transform={`translate(${label + k * cell + cell / 2 + 3},${label - 4}) rotate(-60)`} className="axis">
            {show(p).slice(0, 10)}
          </text>
        ))}
        {result.pieces.map((p, q) => (
          <g key={q}>
            <text x={label - 4} y={label + q * cell + cell * 0.7} textAnchor="end" className="axis">
              {show(p).slice(0, 10)}
            </text>
            {Array.from({ length: q + 1 }, (_, k) => (
              <rect
                key={k}
                x={label + k * cell}
                y={label + q * cell}
                width={cell - 1}
                height={cell - 1}
                fill={viridis(Math.sqrt(at(q, k)))}
              >
                <title>{`"${p}" → "${result.pieces[k]}": ${(at(q, k) * 100).toFixed(1)}%`}</title>
              </rect>
            ))}
          </g>
        ))}
      </svg>
      <figcaption>
        Layer {layer}, head {head}. Row = the token looking, column = the token looked at (only earlier tokens: the model cannot see ahead).
        Colour: √probability on viridis (dark = 0, bright = 1).
      </figcaption>
    </figure>
  );
}
