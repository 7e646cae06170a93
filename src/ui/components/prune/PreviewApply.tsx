/**
 * Live preview (masked perplexity estimate streaming with its ± band, labelled as such, then the
 * exact number with the chosen compensation; predicted latency from the remaining FLOPs, removal
 * counts) and Apply (disabled, with the reason, when its inputs are missing; exact perplexity,
 * dense vs pruned latency measured interleaved with a spread warning, measured and FLOP-bound speedups).
 */
import { useStudio } from '../../../store';
import { compactCount, exactCount, fixed } from '../../format';
import { estimatePlan } from '../../plan-cost';
import { applyCurrent, compensationReady, planIsCurrent, PREVIEW_PROTOCOL, remeasureComparison } from '../../prune-actions';
import { EXACT_PROTOCOL } from '../../measure-applied';
import { Explain } from '../Explain';
import { SpreadWarning } from '../SpreadWarning';
import { isClassifier } from '../../vision-actions';
import { AccuracyFigure } from '../vision/AccuracyFigure';

/** A classifier's live preview: the plan's masks on the dense model, top-1 accuracy on the test images. */
function AccuracyPreviewLines({ plan }: { plan: string }) {
  const p = useStudio((s) => s.previewAccuracy);
  const dense = useStudio((s) => s.denseAccuracy);
  const images = useStudio((s) => s.imageSet);
  const current = p?.plan === plan ? p : null;
  return (
    <>
      <p className="preview-kind" data-testid="preview-kind">
        Masked units on the dense model, scored on the test images: the number Apply gives without compensation.
      </p>
      <p className="accuracy-line" aria-live="polite">
        {current?.result ? (
          <AccuracyFigure r={current.result} testId="preview-accuracy" dense={dense} />
        ) : (
          <span data-testid="preview-accuracy">{!images ? 'pick test images first' : current?.running ? 'scoring…' : '…'}</span>
        )}
      </p>
    </>
  );
}

export function PreviewBlock() {
  const model = useStudio((s) => s.model);
  const plan = useStudio((s) => (planIsCurrent(s) ? s.plan : null));
  const preview = useStudio((s) => s.preview);
  const dense = useStudio((s) => s.densePerplexity);
  const denseLatency = useStudio((s) => s.denseLatency);
  const seq = useStudio((s) => s.latencySetup.seq);
  const compensation = useStudio((s) => s.controls.compensation);
  if (!model || !plan) return null;
  const est = estimatePlan(model, plan, denseLatency?.medianMs ?? null, seq);
  const shown = preview?.final
    ? {
        ppl: preview.final.perplexity,
        band: preview.final.perplexity * preview.final.nllStdError,
        tokens: preview.final.protocol.tokensScored,
      }
    : preview?.estimate;
  const c = est.counts;
  return (
    <section className="card preview-card" aria-labelledby="preview-title" aria-busy={preview?.running ?? false}>
      <h3 id="preview-title">Live preview · {plan.name}</h3>
      {isClassifier(model) ? <AccuracyPreviewLines plan={plan.name} /> : null}
      <div hidden={isClassifier(model)}>
        <p className="preview-kind" data-testid="preview-kind">
          {compensation === 'none'
            ? 'Masked units, no compensation: the same numbers Apply gives, on fewer tokens.'
            : `Fast estimate: masked units, without ${compensation} compensation. The exact number with ${compensation} follows when the controls rest.`}
        </p>
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
        <CompensatedLine compensation={compensation} />
        <p className="protocol-line">
          {PREVIEW_PROTOCOL.textName}, first {exactCount(PREVIEW_PROTOCOL.maxTokens ?? 0)} tokens, ctx {PREVIEW_PROTOCOL.contextLength},
          stride {PREVIEW_PROTOCOL.stride} (Apply scores {exactCount(EXACT_PROTOCOL.maxTokens ?? 0)})
        </p>
      </div>
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
        <dd data-testid="preview-params" title={`≈ ${exactCount(est.parameters)} of ${exactCount(model.parameters)}`}>
          ≈ {compactCount(est.parameters)}
        </dd>
        <dt>FLOPs left</dt>
        <dd data-testid="preview-flops-left">{fixed(est.flopRatio * 100, 1)} %</dd>
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
        {exactCount(PREVIEW_PROTOCOL.maxTokens ?? 0)} tokens; the number streams in as tokens are scored, with ± one standard error. With a
        compensation chosen, the masked number is a fast estimate without it; once the controls rest, the compensation is applied to a copy
        of the weights, which is sliced and scored on the same tokens: that exact number is what Apply gives there. Predicted latency =
        dense median × remaining FLOPs / dense FLOPs (batch × {seq} tokens), the compute-bound prediction, and dense median × remaining
        weight bytes / dense bytes, the memory-bound one (closer for short inputs and generation); Apply measures it.
      </Explain>
    </section>
  );
}

/** The exact perplexity with the chosen compensation (a compensated, sliced copy on the preview's tokens). */
function CompensatedLine({ compensation }: { compensation: string }) {
  const c = useStudio((s) => s.preview?.compensated);
  const ready = useStudio((s) => compensationReady(s.controls.compensation, s));
  if (compensation === 'none') return null;
  if (!ready)
    return (
      <p className="warning-line" data-testid="preview-compensated">
        {compensation} needs calibration (step 2): no exact number until it runs.
      </p>
    );
  const current = c && c.compensation === compensation ? c : null;
  return (
    <p className="compensated-line" data-testid="preview-compensated" aria-live="polite">
      With {compensation} (exact):{' '}
      <strong data-testid="preview-compensated-ppl">
        {current?.result ? fixed(current.result.perplexity) : current?.running ? 'computing…' : 'waits for the estimate'}
      </strong>
      {current?.result ? ` ± ${fixed(current.result.perplexity * current.result.nllStdError)}` : ''}
    </p>
  );
}

export function ApplyBlock() {
  const plan = useStudio((s) => (planIsCurrent(s) ? s.plan : null));
  const applied = useStudio((s) => s.applied);
  const ppl = useStudio((s) => s.prunedPerplexity);
  const heldOut = useStudio((s) => s.prunedHeldOut);
  const classifier = useStudio((s) => isClassifier(s.model));
  const acc = useStudio((s) => s.prunedAccuracy);
  const denseAcc = useStudio((s) => s.denseAccuracy);
  const comparison = useStudio((s) => s.latencyComparison);
  const compensation = useStudio((s) => s.controls.compensation);
  const ready = useStudio((s) => compensationReady(s.controls.compensation, s));
  const busy = useStudio((s) => s.job !== null && !s.job.id.startsWith('preview-'));
  const flopBound = applied ? applied.denseCost.flops / applied.cost.flops : null;
  const byteBound = applied ? applied.denseCost.weightBytes / applied.cost.weightBytes : null;
  const why = !plan ? 'Make a plan first (move a slider).' : !ready ? `${compensation} compensation needs calibration (step 2).` : null;
  const lat = comparison?.pruned ?? null;
  const denseLat = comparison?.dense ?? null;
  return (
    <section className="card" aria-labelledby="apply-title">
      <h3 id="apply-title">Apply</h3>
      <button
        type="button"
        className="button"
        data-testid="apply"
        disabled={why !== null || busy}
        aria-describedby={why ? 'apply-why' : undefined}
        onClick={() => void applyCurrent()}
      >
        Apply plan (compensation: {compensation})
      </button>
      {why ? (
        <p className="hint" id="apply-why" data-testid="apply-why">
          {why}
        </p>
      ) : null}
      {applied ? (
        <dl className="protocol" aria-label="Applied model">
          <dt>Plan</dt>
          <dd data-testid="applied-plan">{applied.plan.name}</dd>
          <dt>Params</dt>
          <dd title={exactCount(applied.parameters)}>{compactCount(applied.parameters)}</dd>
          {classifier ? (
            <>
              <dt title="Top-1 accuracy of the applied model on the test images (Wilson 95% interval) and its mean loss">Accuracy</dt>
              <dd data-testid="pruned-accuracy-row">{acc ? <AccuracyFigure r={acc} testId="pruned-accuracy" dense={denseAcc} /> : '…'}</dd>
            </>
          ) : null}
          <dt hidden={classifier}>Perplexity</dt>
          <dd hidden={classifier}>
            <span data-testid="pruned-ppl">{ppl ? fixed(ppl.perplexity) : '…'}</span>
            {ppl ? ` ± ${fixed(ppl.perplexity * ppl.nllStdError)} (${exactCount(ppl.protocol.tokensScored)} tokens scored)` : ''}
          </dd>
          <dt hidden={classifier} title="Perplexity on heldout.txt: e-mails, a kind of text the model never saw in training or calibration">
            Held-out
          </dt>
          <dd hidden={classifier}>
            <span data-testid="pruned-heldout-ppl">{heldOut ? fixed(heldOut.perplexity) : '…'}</span>
            {heldOut ? ` ± ${fixed(heldOut.perplexity * heldOut.nllStdError)} (${heldOut.protocol.textName})` : ''}
          </dd>
          <dt hidden={classifier}>Latency</dt>
          <dd hidden={classifier}>
            <span data-testid="pruned-latency">{lat ? fixed(lat.medianMs) : '…'}</span> ms
            {denseLat ? (
              <>
                {' '}
                vs dense <span data-testid="compare-dense-latency">{fixed(denseLat.medianMs)}</span> ms, measured interleaved (batch{' '}
                {denseLat.request.batch} × {denseLat.request.seq})
              </>
            ) : null}
          </dd>
          <dt hidden={classifier}>Speedup</dt>
          <dd hidden={classifier}>
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
      {lat && denseLat ? (
        <SpreadWarning results={[denseLat, lat]} onAgain={() => void remeasureComparison()} disabled={busy} testId="compare-spread" />
      ) : null}
    </section>
  );
}
