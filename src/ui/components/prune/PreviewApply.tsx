/**
 * Live preview (masked perplexity estimate streaming with its ± band, predicted latency from the
 * remaining FLOPs, removal counts) and Apply (exact perplexity, measured latency dense vs pruned,
 * measured and FLOP-bound speedups).
 */
import { useStudio } from '../../../store';
import { LATENCY_DEFAULTS } from '../../defaults';
import { compactCount, exactCount, fixed } from '../../format';
import { estimatePlan } from '../../plan-cost';
import { applyCurrent, EXACT_PROTOCOL, PREVIEW_PROTOCOL } from '../../prune-actions';
import { Explain } from '../Explain';

export function PreviewBlock() {
  const model = useStudio((s) => s.model);
  const plan = useStudio((s) => s.plan);
  const preview = useStudio((s) => s.preview);
  const dense = useStudio((s) => s.densePerplexity);
  const denseLatency = useStudio((s) => s.denseLatency);
  if (!model || !plan) return null;
  const est = estimatePlan(model, plan, denseLatency?.medianMs ?? null, LATENCY_DEFAULTS.seq);
  const shown = preview?.final
    ? {
        ppl: preview.final.perplexity,
        band: preview.final.perplexity * preview.final.nllStdError,
        tokens: preview.final.protocol.tokensScored,
      }
    : preview?.estimate;
  const c = est.counts;
  return (
    <section className="card" aria-labelledby="preview-title" aria-busy={preview?.running ?? false}>
      <h3 id="preview-title">Live preview · {plan.name}</h3>
      <p className="big-number" title="Masked perplexity on the dense session">
        <span data-testid="preview-ppl">{shown ? fixed(shown.ppl) : '…'}</span>
        {shown ? <span className="band"> ± {fixed(shown.band)}</span> : null}
      </p>
      <p className="spread" aria-live="polite">
        {preview?.running
          ? `estimating… ${shown ? `${exactCount(shown.tokens)} tokens so far` : ''}`
          : preview?.final
            ? `final over ${exactCount(preview.final.protocol.tokensScored)} tokens`
            : shown
              ? `stopped after ${exactCount(shown.tokens)} tokens`
              : 'waiting'}
        {dense ? ` · dense ${fixed(dense.perplexity)}` : ''}
      </p>
      <p className="protocol-line">
        {PREVIEW_PROTOCOL.textName}, first {exactCount(PREVIEW_PROTOCOL.maxTokens ?? 0)} tokens, ctx {PREVIEW_PROTOCOL.contextLength},
        stride {PREVIEW_PROTOCOL.stride}
      </p>
      <dl className="protocol" aria-label="Plan counts">
        <dt>Heads removed</dt>
        <dd data-testid="heads-removed">
          {c.headsRemoved} / {c.headsTotal}
        </dd>
        <dt>FFN removed</dt>
        <dd data-testid="ffn-removed">
          {exactCount(c.ffnRemoved)} / {exactCount(c.ffnTotal)}
        </dd>
        <dt>Layers removed</dt>
        <dd>
          {c.layersRemoved} / {plan.model.numLayers}
        </dd>
        <dt>Params</dt>
        <dd title={`≈ ${exactCount(est.parameters)} of ${exactCount(model.parameters)}`}>≈ {compactCount(est.parameters)}</dd>
        <dt>FLOPs left</dt>
        <dd>{fixed(est.flopRatio * 100, 1)} %</dd>
        <dt>Weight bytes left</dt>
        <dd>{fixed(est.byteRatio * 100, 1)} %</dd>
        <dt>Predicted latency</dt>
        <dd
          data-testid="predicted-latency"
          title="Dense median × remaining FLOPs / dense FLOPs (compute-bound); × remaining weight bytes if memory-bound"
        >
          {est.predictedMs === null
            ? 'measure dense latency first'
            : `${fixed(est.predictedMs)} ms (FLOPs) · ${fixed(est.predictedBytesMs ?? NaN)} ms (bytes)`}
        </dd>
      </dl>
      <Explain plain="The preview switches the chosen parts off without rebuilding the model, so you see the effect in seconds.">
        The estimate masks the plan&apos;s heads and neurons on the already-open dense model (nothing is rebuilt), scoring the first{' '}
        {exactCount(PREVIEW_PROTOCOL.maxTokens ?? 0)} tokens; the number streams in as tokens are scored, with ± one standard error.
        Predicted latency = dense median × remaining FLOPs / dense FLOPs (batch {LATENCY_DEFAULTS.batch} × {LATENCY_DEFAULTS.seq}), the
        compute-bound prediction, and dense median × remaining weight bytes / dense bytes, the memory-bound one (closer for short inputs and
        generation); Apply measures it.
      </Explain>
    </section>
  );
}

export function ApplyBlock() {
  const plan = useStudio((s) => s.plan);
  const applied = useStudio((s) => s.applied);
  const ppl = useStudio((s) => s.prunedPerplexity);
  const lat = useStudio((s) => s.prunedLatency);
  const denseLat = useStudio((s) => s.denseLatency);
  const compensation = useStudio((s) => s.controls.compensation);
  const busy = useStudio((s) => s.job !== null && !s.job.id.startsWith('preview-'));
  const flopBound = applied ? applied.denseCost.flops / applied.cost.flops : null;
  const byteBound = applied ? applied.denseCost.weightBytes / applied.cost.weightBytes : null;
  return (
    <section className="card" aria-labelledby="apply-title">
      <h3 id="apply-title">Apply</h3>
      <button type="button" className="button" data-testid="apply" disabled={!plan || busy} onClick={() => void applyCurrent()}>
        Apply plan (compensation: {compensation})
      </button>
      {applied ? (
        <dl className="protocol" aria-label="Applied model">
          <dt>Plan</dt>
          <dd>{applied.plan.name}</dd>
          <dt>Params</dt>
          <dd title={exactCount(applied.parameters)}>{compactCount(applied.parameters)}</dd>
          <dt>Perplexity</dt>
          <dd>
            <span data-testid="pruned-ppl">{ppl ? fixed(ppl.perplexity) : '…'}</span>
            {ppl ? ` ± ${fixed(ppl.perplexity * ppl.nllStdError)} (${exactCount(EXACT_PROTOCOL.maxTokens ?? 0)} tokens)` : ''}
          </dd>
          <dt>Latency</dt>
          <dd>
            <span data-testid="pruned-latency">{lat ? fixed(lat.medianMs) : '…'}</span> ms
            {denseLat ? ` vs dense ${fixed(denseLat.medianMs)} ms` : ''}
          </dd>
          <dt>Speedup</dt>
          <dd>
            <span data-testid="speedup">{lat && denseLat ? fixed(denseLat.medianMs / lat.medianMs) : '…'}</span>× measured
          </dd>
          <dt title="The speedup if latency followed the remaining FLOPs (compute-bound) or the remaining weight bytes (memory-bound)">
            Bounds
          </dt>
          <dd>
            <span data-testid="flop-bound-speedup">{flopBound ? fixed(flopBound) : '…'}</span>× FLOPs ·{' '}
            <span data-testid="byte-bound-speedup">{byteBound ? fixed(byteBound) : '…'}</span>× weight bytes
          </dd>
        </dl>
      ) : (
        <p className="placeholder">Apply slices the weights into a smaller model, then measures it exactly.</p>
      )}
    </section>
  );
}
