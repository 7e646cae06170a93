/**
 * Quantize (after Apply): pick a variant (the engine's registry, a plain sentence each as tooltip;
 * GPTQ greyed out without calibration), run it as a job, and compare each measured variant with the
 * fp32 file of the same plan: perplexity on the applied model's tokens, file size, latency (runs
 * interleaved with the fp32 file). Each variant can be exported as the bundle's model.
 */
import { useEffect, useState } from 'react';
import { useStudio } from '../../../store';
import { backendLabel, bytes, fixed } from '../../format';
import { exportZip } from '../../plan-files';
import { loadQuantVariants, QUANT_PLAIN, quantizeVariant } from '../../quantize-actions';
import { Explain } from '../Explain';

const pct = (x: number) => `${x >= 0 ? '+' : ''}${fixed(100 * x)}%`;

function VariantPicker({ chosen, onChoose }: { chosen: string; onChoose: (v: string) => void }) {
  const variants = useStudio((s) => s.quantVariants);
  const calibrated = useStudio((s) => s.calibration !== null);
  return (
    <fieldset className="field" data-testid="quantize-variants">
      <legend>Variant</legend>
      {variants.map((v) => {
        const why =
          v.needsCalibration && !calibrated
            ? `${v.name} needs calibration (step 2): its error correction uses the calibration text.`
            : null;
        const plain = QUANT_PLAIN[v.name] ?? v.what;
        return (
          <div key={v.name} className="radio-line">
            <label title={why ?? plain}>
              <input
                type="radio"
                name="quantize-variant"
                value={v.name}
                data-testid={`quantize-variant-${v.name}`}
                checked={chosen === v.name}
                disabled={why !== null}
                aria-describedby={why ? `quantize-why-${v.name}` : undefined}
                onChange={() => onChoose(v.name)}
              />{' '}
              {v.name}
            </label>
            {why ? (
              <span className="hint" id={`quantize-why-${v.name}`} data-testid={`quantize-why-${v.name}`}>
                {' '}
                — {why}
              </span>
            ) : null}
          </div>
        );
      })}
    </fieldset>
  );
}

function MeasuredVariants({ busy }: { busy: boolean }) {
  const quantized = useStudio((s) => s.quantized);
  const first = quantized[0];
  if (!first) return <p className="placeholder">Each quantized variant is measured against the fp32 file of the same plan.</p>;
  return (
    <>
      <div className="table-scroll">
        <table className="compact-table" data-testid="quantize-results">
          <thead>
            <tr>
              <th scope="col">Variant</th>
              <th scope="col">Perplexity</th>
              <th scope="col">Size</th>
              <th scope="col">Latency</th>
            </tr>
          </thead>
          <tbody>
            {quantized.map((q) => (
              <tr key={q.variant} data-testid={`quantize-row-${q.variant}`}>
                <th scope="row">
                  {q.variant}
                  <br />
                  <button
                    type="button"
                    className="button secondary small"
                    data-testid={`quantize-export-${q.variant}`}
                    disabled={busy}
                    title={`Download the bundle with ${q.file}`}
                    onClick={() => void exportZip(q.variant)}
                  >
                    Export
                  </button>
                </th>
                <td>
                  <span data-testid="quantize-ppl" data-ppl={q.perplexity.perplexity} data-fp32-ppl={q.perplexity.session}>
                    {fixed(q.perplexity.perplexity)}
                  </span>
                  <br />
                  <small>{pct(q.perplexity.perplexity / q.perplexity.session - 1)}</small>
                </td>
                <td>
                  <span data-testid="quantize-bytes" data-bytes={q.bytes} data-fp32-bytes={q.fp32Bytes}>
                    {bytes(q.bytes)}
                  </span>
                  <br />
                  <small>{fixed(q.fp32Bytes / q.bytes, 1)}× smaller</small>
                </td>
                <td>
                  {fixed(q.latency.medianMs, 1)} ms
                  <br />
                  <small>{fixed(q.fp32Latency.medianMs / q.latency.medianMs)}× fp32 speed</small>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="hint">
        Against the fp32 file of {first.plan}: perplexity {fixed(first.perplexity.session)} on the same{' '}
        {first.perplexity.tokensScored.toLocaleString('en-US')} tokens ({first.perplexity.textName}, ctx {first.perplexity.context}, stride{' '}
        {first.perplexity.stride}); {bytes(first.fp32Bytes)}. Latency: batch 1 × {first.latency.request.seq} tokens on{' '}
        {backendLabel(first.latency.backend)}, each variant timed in turn with the fp32 file.
      </p>
    </>
  );
}

export function QuantizeBlock() {
  const applied = useStudio((s) => s.applied);
  const measured = useStudio((s) => s.prunedPerplexity !== null);
  const busy = useStudio((s) => s.job !== null && !s.job.id.startsWith('preview-'));
  const [chosen, setChosen] = useState('int8');
  useEffect(() => void loadQuantVariants(), []);
  const why = !applied ? 'Apply a plan first.' : !measured ? 'Wait for the applied model’s perplexity.' : null;
  return (
    <section className="card" aria-labelledby="quantize-title">
      <h3 id="quantize-title">Quantize</h3>
      <Explain plain="Quantization stores the weights of the pruned model with fewer bits, so the file is smaller and often faster; each variant is measured on the same tokens as the applied plan.">
        <p>
          Weights of the applied model are rewritten in the exported graph: fp16 tensors, int8 per-channel weights with dynamic activation
          quantization (MatMulInteger), or 4-bit weights in blocks of 32 (MatMulNBits) rounded to nearest or chosen by GPTQ (Frantar et al.
          2022) from the calibration Hessians. The file measured is the one Export writes.
        </p>
      </Explain>
      <VariantPicker chosen={chosen} onChoose={setChosen} />
      <button
        type="button"
        className="button"
        data-testid="quantize-run"
        disabled={why !== null || busy}
        aria-describedby={why ? 'quantize-run-why' : undefined}
        onClick={() => void quantizeVariant(chosen)}
      >
        Quantize ({chosen})
      </button>
      {why ? (
        <p className="hint" id="quantize-run-why">
          {why}
        </p>
      ) : null}
      {applied ? <MeasuredVariants busy={busy} /> : null}
    </section>
  );
}
