/** Before/after text: the same prompt and sampling settings on the dense and the pruned model. */
import { useState } from 'react';
import { useStudio } from '../../../store';
import { generateCompare } from '../../plan-files';
import { Divergence } from '../teach/Divergence';

export function TextCompare() {
  const generated = useStudio((s) => s.generated);
  const applied = useStudio((s) => s.applied);
  const model = useStudio((s) => s.model);
  const busy = useStudio((s) => s.job !== null && !s.job.id.startsWith('preview-'));
  const [prompt, setPrompt] = useState('The old man looked at the sea and');
  const [maxNewTokens, setMax] = useState(32);
  const [temperature, setTemperature] = useState(0);
  const [topK, setTopK] = useState(40);
  const [seed, setSeed] = useState(0);
  return (
    <section className="card compare" aria-labelledby="compare-title">
      <h3 id="compare-title">Compare text</h3>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void generateCompare({ prompt, maxNewTokens, temperature, topK, seed });
        }}
      >
        <div className="field">
          <label htmlFor="gen-prompt">Prompt</label>
          <textarea id="gen-prompt" rows={2} value={prompt} onChange={(e) => setPrompt(e.target.value)} />
        </div>
        <div className="gen-settings">
          <label>
            New tokens <input type="number" min={1} max={256} value={maxNewTokens} onChange={(e) => setMax(Number(e.target.value))} />
          </label>
          <label>
            Temperature{' '}
            <input type="number" min={0} max={2} step={0.1} value={temperature} onChange={(e) => setTemperature(Number(e.target.value))} />
          </label>
          <label>
            Top-k <input type="number" min={0} max={1000} value={topK} onChange={(e) => setTopK(Number(e.target.value))} />
          </label>
          <label>
            Seed <input type="number" value={seed} onChange={(e) => setSeed(Number(e.target.value))} />
          </label>
        </div>
        <p className="hint">
          Temperature 0 = greedy (top-k and seed then do nothing).{applied ? '' : ' Apply a plan to see the pruned side.'}
        </p>
        <button type="submit" className="button" data-testid="generate" disabled={!model || busy || prompt.trim() === ''}>
          Generate
        </button>
      </form>
      <div className="compare-grid">
        <figure>
          <figcaption>
            Dense{generated.dense ? ` · ${generated.dense.newTokens} tokens in ${Math.round(generated.dense.ms)} ms` : ''}
          </figcaption>
          <p className="generated" data-testid="generated-dense">
            {generated.dense?.text ?? '—'}
          </p>
        </figure>
        <figure>
          <figcaption>
            Pruned{generated.pruned ? ` · ${generated.pruned.newTokens} tokens in ${Math.round(generated.pruned.ms)} ms` : ''}
          </figcaption>
          <p className="generated" data-testid="generated-pruned">
            {generated.pruned?.text ?? '—'}
          </p>
        </figure>
      </div>
      <Divergence prompt={prompt} />
    </section>
  );
}
