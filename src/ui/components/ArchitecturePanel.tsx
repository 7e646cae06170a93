/** Centre panel: the loaded model's architecture, overall and per layer. */
import type { ArchSpec, LayerShape } from '../../core/ir';
import { useStudio } from '../../store';
import { bytes, compactCount, exactCount } from '../format';
import { MemoryEstimate } from './MemoryEstimate';

/** Weights of one block's linear layers (q, k, v, o and the MLP), without biases. */
function linearWeights(spec: ArchSpec, l: LayerShape): number {
  return spec.hiddenSize * spec.headDim * (2 * l.numHeads + 2 * l.numKvHeads) + spec.hiddenSize * l.ffnSize * (spec.gatedMlp ? 3 : 2);
}

function uniformValue(layers: LayerShape[], pick: (l: LayerShape) => number): string {
  const values = new Set(layers.map(pick));
  if (values.size === 0) return '—';
  if (values.size === 1) return String([...values][0]);
  return `${Math.min(...values)}–${Math.max(...values)}`;
}

/** Language models: vocabulary and context (tokens). */
function textRows(spec: ArchSpec): { label: string; value: string; testId?: string; title?: string }[] {
  return [
    { label: 'Vocabulary', value: exactCount(spec.vocabSize), testId: 'arch-vocab' },
    { label: 'Context', value: `${spec.maxPositions} tokens`, testId: 'arch-context' },
  ];
}

/** Image classifiers (encoder blocks, no tokenizer): input geometry, tokens per image, classes. */
function visionRows(
  spec: ArchSpec,
  v: NonNullable<ArchSpec['vision']>,
): { label: string; value: string; testId?: string; title?: string }[] {
  const patches = (v.imageSize / v.patchSize) ** 2;
  return [
    {
      label: 'Input',
      value: `${v.imageSize} × ${v.imageSize} × ${v.numChannels} image, ${v.patchSize} × ${v.patchSize} patches`,
      testId: 'arch-input',
      title: 'Bidirectional encoder blocks read the patch embeddings; no tokenizer',
    },
    { label: 'Tokens', value: `${patches} patches + ${spec.pooling === 'mean' ? 'mean pooling' : 'CLS'}`, testId: 'arch-context' },
    { label: 'Classes', value: `${v.labels.length} (${v.labels.join(', ')})`, testId: 'arch-classes' },
  ];
}

export function ArchitecturePanel() {
  const model = useStudio((s) => s.model);
  return (
    <main id="main" className="centre" aria-labelledby="arch-title" tabIndex={-1}>
      <section className="panel">
        <h2 id="arch-title">Architecture</h2>
        {model ? (
          <>
            <ArchitectureTables
              spec={model.spec}
              layers={model.layers}
              parameters={model.parameters}
              weightBytes={model.weightBytes}
              {...(model.weightStore ? { weightStore: model.weightStore } : {})}
            />
            <MemoryEstimate fingerprint={model.fingerprint} />
          </>
        ) : (
          <p className="placeholder">No model loaded yet.</p>
        )}
      </section>
    </main>
  );
}

function ArchitectureTables({
  spec,
  layers,
  parameters,
  weightBytes,
  weightStore,
}: {
  spec: ArchSpec;
  layers: LayerShape[];
  parameters: number;
  weightBytes: number;
  /** Where the weights wait while not in use (ModelSummary.weightStore). */
  weightStore?: string;
}) {
  const rows: { label: string; value: string; testId?: string; title?: string }[] = [
    {
      label: 'Family',
      value: `${spec.modelType} (${spec.norm}, ${spec.activation}, ${spec.positions} positions${spec.tiedEmbeddings ? ', tied embeddings' : ''})`,
    },
    { label: 'Layers', value: String(spec.numLayers), testId: 'arch-layers' },
    { label: 'Attention heads', value: uniformValue(layers, (l) => l.numHeads), testId: 'arch-heads' },
    { label: 'KV heads', value: uniformValue(layers, (l) => l.numKvHeads), testId: 'arch-kv-heads' },
    { label: 'Head dim', value: String(spec.headDim), testId: 'arch-head-dim' },
    { label: 'd_model', value: String(spec.hiddenSize), testId: 'arch-hidden' },
    { label: 'FFN width', value: uniformValue(layers, (l) => l.ffnSize), testId: 'arch-ffn' },
    ...(spec.vision ? visionRows(spec, spec.vision) : textRows(spec)),
  ];
  return (
    <>
      <table className="kv-table">
        <caption className="visually-hidden">Model dimensions</caption>
        <tbody>
          {rows.map((r) => (
            <tr key={r.label}>
              <th scope="row">{r.label}</th>
              <td data-testid={r.testId}>{r.value}</td>
            </tr>
          ))}
          <tr>
            <th scope="row">Parameters</th>
            <td>
              <span data-testid="arch-params">{exactCount(parameters)}</span> <span className="muted">({compactCount(parameters)})</span>
            </td>
          </tr>
          <tr>
            <th scope="row">Weight bytes</th>
            <td>
              <span data-testid="arch-bytes">{exactCount(weightBytes)}</span> <span className="muted">({bytes(weightBytes)}, float32)</span>
            </td>
          </tr>
          {weightStore ? (
            <tr>
              <th scope="row">Weights kept in</th>
              <td
                data-testid="arch-weight-store"
                title="A large model's weights are written to storage once and read back block by block, so memory holds only the part in use."
              >
                {weightStore}, read back per block while in use
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
      <h3 id="layers-title">Per layer</h3>
      <div className="table-scroll" role="region" aria-labelledby="layers-title" tabIndex={0}>
        <table className="data-table" data-testid="arch-layer-table">
          <thead>
            <tr>
              <th scope="col">Layer</th>
              <th scope="col">Heads</th>
              <th scope="col">KV heads</th>
              <th scope="col">FFN width</th>
              <th scope="col" title="q, k, v, o and MLP weight matrices, without biases">
                Linear weights
              </th>
            </tr>
          </thead>
          <tbody>
            {layers.map((l, i) => (
              <tr key={i}>
                <th scope="row">{i}</th>
                <td>{l.numHeads}</td>
                <td>{l.numKvHeads}</td>
                <td>{l.ffnSize}</td>
                <td title={exactCount(linearWeights(spec, l))}>{compactCount(linearWeights(spec, l))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
