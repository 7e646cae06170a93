/**
 * Right rail: the dense baseline, perplexity with its full protocol and latency with its setup
 * (batch and sequence length settable), earlier measurements and a wide-spread warning.
 */
import type { LatencyResult, PerplexityResult } from '../../api/types';
import { useStudio } from '../../store';
import { runDenseLatency, runDensePerplexity } from '../actions';
import { LATENCY_DEFAULTS, PERPLEXITY_DEFAULTS } from '../defaults';
import { backendLabel, exactCount, fixed } from '../format';
import { Explain } from './Explain';
import { SpreadWarning } from './SpreadWarning';
import { AccuracyCard } from './vision/AccuracyCard';
import { isClassifier } from '../vision-actions';

export function BaselinePanel() {
  const perplexity = useStudio((s) => s.densePerplexity);
  const latency = useStudio((s) => s.denseLatency);
  const history = useStudio((s) => s.denseLatencyHistory);
  const canRun = useStudio((s) => s.job === null && s.model !== null);
  const classifier = useStudio((s) => isClassifier(s.model));
  return (
    <aside className="rail rail-right" aria-labelledby="baseline-title">
      <h2 id="baseline-title">Dense baseline</h2>
      {classifier ? <AccuracyCard /> : null}
      <section className="card" aria-labelledby="ppl-title" hidden={classifier}>
        <h3 id="ppl-title">Perplexity</h3>
        {perplexity ? <PerplexityView r={perplexity} /> : <p className="placeholder">Not measured yet.</p>}
        <button type="button" className="button secondary" disabled={!canRun} onClick={() => void runDensePerplexity()}>
          {perplexity ? 'Measure again' : 'Measure perplexity'}
        </button>
        <Explain plain="Perplexity says how surprised the model is by real text: lower means it predicts the next word better.">
          Perplexity is exp of the mean negative log-likelihood of each next token, over the first{' '}
          {exactCount(PERPLEXITY_DEFAULTS.maxTokens ?? 0)} tokens of the evaluation text, read in sliding windows of{' '}
          {PERPLEXITY_DEFAULTS.contextLength} tokens that advance by {PERPLEXITY_DEFAULTS.stride}; every token after the first is scored
          once, with as much context as its window gives. Lower is better. The ± band is one standard error of the mean.
        </Explain>
      </section>
      {classifier ? (
        <p className="hint" data-testid="latency-classifier">
          Latency is measured on token inputs; the engine does not time image inputs yet, so it is not shown for this classifier.
        </p>
      ) : null}
      <section className="card" aria-labelledby="latency-title" hidden={classifier}>
        <h3 id="latency-title">Latency</h3>
        {latency ? <LatencyView r={latency} /> : <p className="placeholder">Not measured yet.</p>}
        {latency ? (
          <SpreadWarning results={[latency]} disabled={!canRun} onAgain={() => void runDenseLatency()} testId="latency-spread" />
        ) : null}
        <LatencySetupFields />
        <button
          type="button"
          className="button secondary"
          data-testid="measure-latency"
          disabled={!canRun}
          onClick={() => void runDenseLatency()}
        >
          {latency ? 'Measure again' : 'Measure latency'}
        </button>
        {history.length > 1 ? (
          <p className="hint" data-testid="latency-history">
            Earlier medians:{' '}
            {history
              .slice(0, -1)
              .map((r) => `${fixed(r.medianMs)} ms (${r.request.batch} × ${r.request.seq})`)
              .join(', ')}
          </p>
        ) : null}
        <Explain plain="Latency is how long the model takes to read one batch of text; smaller models should take less time.">
          Wall-clock time of one forward pass (full-sequence logits) of the batch × sequence length above (default 1 × the smaller of{' '}
          {LATENCY_DEFAULTS.seq} tokens and the model&apos;s context) in the engine worker: {LATENCY_DEFAULTS.warmup} warm-up runs are
          discarded, then the median of {LATENCY_DEFAULTS.runs} runs is shown, with the 10th–90th percentile range. Apply measures the dense
          and pruned models again, interleaved run by run, and shows that pair on its card; this panel keeps its own measurements.
        </Explain>
      </section>
    </aside>
  );
}

/** Batch and sequence length of the latency input (at most the model's context). */
function LatencySetupFields() {
  const setup = useStudio((s) => s.latencySetup);
  const set = useStudio((s) => s.setLatencySetup);
  const context = useStudio((s) => s.model?.spec.maxPositions ?? LATENCY_DEFAULTS.seq);
  const clamp = (v: number, max: number) => Math.max(1, Math.min(max, Math.round(Number.isFinite(v) ? v : 1)));
  return (
    <div className="inline-fields latency-setup">
      <label>
        Batch
        <input
          type="number"
          data-testid="latency-batch"
          min={1}
          max={64}
          value={setup.batch}
          onChange={(e) => set({ ...setup, batch: clamp(Number(e.target.value), 64) })}
        />
      </label>
      <label>
        Tokens
        <input
          type="number"
          data-testid="latency-seq"
          min={1}
          max={context}
          value={setup.seq}
          onChange={(e) => set({ ...setup, seq: clamp(Number(e.target.value), context) })}
        />
      </label>
    </div>
  );
}

function PerplexityView({ r }: { r: PerplexityResult }) {
  const band = r.perplexity * r.nllStdError;
  const p = r.protocol;
  return (
    <>
      <p className="big-number" title={`mean NLL ${fixed(r.meanNll, 4)} nats/token`}>
        <span data-testid="ppl-value">{fixed(r.perplexity)}</span>
        <span className="band"> ± {fixed(band)}</span>
      </p>
      <dl className="protocol" data-testid="ppl-protocol" aria-label="Perplexity protocol">
        <dt>Tokenizer</dt>
        <dd>{p.tokenizer}</dd>
        <dt>Text</dt>
        <dd>{p.textName}</dd>
        <dt>Context</dt>
        <dd>{p.contextLength} tokens</dd>
        <dt>Stride</dt>
        <dd>{p.stride} tokens</dd>
        <dt>Tokens scored</dt>
        <dd>
          {exactCount(p.tokensScored)} of {exactCount(p.totalTokens)}
        </dd>
        <dt>BOS prepended</dt>
        <dd>{p.bosPrepended ? 'yes' : 'no (first token not scored)'}</dd>
      </dl>
    </>
  );
}

function LatencyView({ r }: { r: LatencyResult }) {
  const q = r.request;
  return (
    <>
      <p className="big-number" title={`samples (ms): ${r.samplesMs.map((x) => fixed(x, 1)).join(', ')}`}>
        <span data-testid="latency-median">{fixed(r.medianMs)}</span>
        <span className="unit"> ms</span>
      </p>
      <p className="spread">
        p10–p90: {fixed(r.p10Ms, 1)}–{fixed(r.p90Ms, 1)} ms
      </p>
      <dl className="protocol" aria-label="Latency setup">
        <dt>Input</dt>
        <dd>
          batch {q.batch} × seq {q.seq}
        </dd>
        <dt>Runs</dt>
        <dd>
          median of {q.runs} after {q.warmup} warm-up
        </dd>
        <dt>Backend</dt>
        <dd data-testid="latency-backend" title={r.backend.engine}>
          {backendLabel(r.backend)}
        </dd>
        <dt>Engine</dt>
        <dd>{r.backend.engine}</dd>
      </dl>
    </>
  );
}
