/** Left rail: the workflow, top to bottom: 1 model source, 2 calibration, 3 importance criteria. */
import { useStudio, type SourceKind } from '../../store';
import { loadAndMeasureBaseline, loadModelFrom } from '../actions';
import { CalibrationStep } from './importance/CalibrationStep';
import { CriteriaStep } from './importance/CriteriaStep';
import { ModelSourceForm } from './ModelSourceForm';
import { Explain } from './Explain';

const SOURCES: { kind: SourceKind; label: string; detail: string; available: boolean }[] = [
  { kind: 'demo', label: 'Demo model', detail: 'demo-gpt2: 4 layers, ships with the app', available: true },
  { kind: 'demo-vit', label: 'Demo ViT (Fashion-MNIST)', detail: 'image classifier: 28 x 28 clothes, 10 classes', available: true },
  { kind: 'hub', label: 'Hugging Face Hub id', detail: 'repo id, @revision or URL', available: true },
  { kind: 'files', label: 'Local files', detail: 'safetensors + config + tokenizer, or .onnx', available: true },
];

export function WorkflowRail() {
  const sourceKind = useStudio((s) => s.sourceKind);
  const setSourceKind = useStudio((s) => s.setSourceKind);
  const busy = useStudio((s) => s.job !== null);
  const loaded = useStudio((s) => s.model !== null);
  return (
    <nav className="rail rail-left" aria-label="Workflow">
      <ol className="steps">
        <li className="step current">
          <h2 id="step-model">
            <span className="step-number" aria-hidden="true">
              1
            </span>{' '}
            Model
          </h2>
          <fieldset className="sources" aria-describedby="step-model-help">
            <legend>Source</legend>
            {SOURCES.map((s) => (
              <label key={s.kind} className={s.available ? 'source' : 'source disabled'}>
                <input
                  type="radio"
                  name="model-source"
                  value={s.kind}
                  checked={sourceKind === s.kind}
                  disabled={!s.available}
                  onChange={() => setSourceKind(s.kind)}
                />
                <span className="source-label">{s.label}</span>
                <span className="source-detail">{s.detail}</span>
              </label>
            ))}
          </fieldset>
          <p id="step-model-help" className="help">
            The demo model loads on start, with no network beyond this page.
          </p>
          {sourceKind === 'demo' || sourceKind === 'demo-vit' ? (
            <button type="button" className="button" disabled={busy} onClick={() => void loadAndMeasureBaseline()}>
              {loaded ? 'Reload and re-measure' : 'Load model'}
            </button>
          ) : (
            <ModelSourceForm kind={sourceKind} disabled={busy} onLoad={(s) => void loadModelFrom(s)} />
          )}
          <Explain plain="The studio reads the model files in your browser and measures how good and how fast the untouched model is.">
            The model&apos;s config.json, weights (safetensors) and tokenizer are read in a background worker, turned into an ONNX graph and
            opened in onnxruntime-web. The dense baseline (perplexity and latency) is then measured so that every pruned variant has
            something to be compared with.
          </Explain>
        </li>
        <li className="step">
          <h2>
            <span className="step-number" aria-hidden="true">
              2
            </span>{' '}
            Calibration
          </h2>
          <CalibrationStep />
        </li>
        <li className="step">
          <h2>
            <span className="step-number" aria-hidden="true">
              3
            </span>{' '}
            Criteria
          </h2>
          <CriteriaStep />
        </li>
      </ol>
    </nav>
  );
}
