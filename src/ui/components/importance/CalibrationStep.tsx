/** Step 2: calibration text (shipped / pasted / uploaded), samples, length, Hessians; run + summary. */
import { useState } from 'react';
import { useStudio } from '../../../store';
import { fetchCalibrationText, runCalibration } from '../../importance-actions';
import { Explain } from '../Explain';
import { isClassifier } from '../../vision-actions';

type TextSource = 'shipped' | 'pasted' | 'file';

export function CalibrationStep() {
  const model = useStudio((s) => s.model);
  const busy = useStudio((s) => s.job !== null);
  const calibration = useStudio((s) => s.calibration);
  const [source, setSource] = useState<TextSource>('shipped');
  const [pasted, setPasted] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [samples, setSamples] = useState(16);
  const [seq, setSeq] = useState(128);
  const [withHessians, setWithHessians] = useState(true);
  const maxSeq = model?.spec.maxPositions ?? 128;

  const images = useStudio((s) => s.imageSet);
  const classifier = isClassifier(model);

  const run = async () => {
    if (classifier) {
      if (!images) return;
      const n = Math.min(samples, images.dataset.count);
      await runCalibration({ text: '', textName: images.name, samples: n, seq: 0, withHessians, images: images.dataset });
      return;
    }
    const text = source === 'shipped' ? await fetchCalibrationText() : source === 'pasted' ? pasted : ((await file?.text()) ?? '');
    const textName = source === 'shipped' ? 'calibration.txt' : source === 'pasted' ? 'pasted text' : (file?.name ?? 'file');
    await runCalibration({ text, textName, samples, seq: Math.min(seq, maxSeq), withHessians });
  };

  return (
    <div className="calibration">
      {classifier ? (
        <p className="help" data-testid="calibration-images">
          {images
            ? `Images: the first ${Math.min(samples, images.dataset.count)} of ${images.name} (${images.dataset.count}).`
            : 'This model reads images: pick test images in the dense baseline first.'}
        </p>
      ) : null}
      <label hidden={classifier}>
        Text
        <select data-testid="calibration-source" value={source} onChange={(e) => setSource(e.target.value as TextSource)}>
          <option value="shipped">Shipped calibration.txt</option>
          <option value="pasted">Paste text</option>
          <option value="file">Upload a .txt file</option>
        </select>
      </label>
      {source === 'pasted' && !classifier ? (
        <textarea aria-label="Calibration text" rows={4} value={pasted} onChange={(e) => setPasted(e.target.value)} />
      ) : null}
      {source === 'file' && !classifier ? (
        <input
          aria-label="Calibration text file"
          type="file"
          accept=".txt,text/plain"
          onChange={(e) => setFile(e.target.files?.[0] ?? null)}
        />
      ) : null}
      <div className="inline-fields">
        <label>
          Samples
          <input
            data-testid="calibration-samples"
            type="number"
            min={1}
            max={classifier ? (images?.dataset.count ?? 256) : 256}
            value={samples}
            onChange={(e) => setSamples(Number(e.target.value))}
          />
        </label>
        <label hidden={classifier}>
          Length
          <input
            data-testid="calibration-seq"
            type="number"
            min={2}
            max={maxSeq}
            value={seq}
            onChange={(e) => setSeq(Number(e.target.value))}
          />
        </label>
      </div>
      <label className="check">
        <input type="checkbox" checked={withHessians} onChange={(e) => setWithHessians(e.target.checked)} /> Accumulate Hessians (needed by
        OBS)
      </label>
      <button
        type="button"
        className="button"
        data-testid="calibrate"
        disabled={busy || !model || (classifier && !images)}
        onClick={() => void run()}
      >
        Run calibration
      </button>
      {calibration ? (
        <p className="help" data-testid="calibration-summary">
          {classifier
            ? `${calibration.samples} images`
            : `${calibration.tokens.toLocaleString()} tokens (${calibration.samples} × ${calibration.seq})`}{' '}
          of {calibration.textName}; dense loss {calibration.baseLoss.toFixed(4)} nats{calibration.withHessians ? '; Hessians ready' : ''}.
        </p>
      ) : null}
      <Explain plain="Calibration lets the model read some sample text so the studio can see which parts actually do work.">
        Calibration runs the text through the dense model once and keeps running statistics of the activations entering each output and down
        projection (means, variances, X<sup>T</sup>X) and of the hidden states around each block. Activation-aware criteria, ablation and
        OBS compensation all read these statistics.
      </Explain>
    </div>
  );
}
