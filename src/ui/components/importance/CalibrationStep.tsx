/** Step 2: calibration text (shipped / pasted / uploaded), samples, length, Hessians; run + summary. */
import { useState } from 'react';
import { useStudio } from '../../../store';
import { fetchCalibrationText, runCalibration } from '../../importance-actions';
import { Explain } from '../Explain';

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

  const run = async () => {
    const text = source === 'shipped' ? await fetchCalibrationText() : source === 'pasted' ? pasted : ((await file?.text()) ?? '');
    const textName = source === 'shipped' ? 'calibration.txt' : source === 'pasted' ? 'pasted text' : (file?.name ?? 'file');
    await runCalibration({ text, textName, samples, seq: Math.min(seq, maxSeq), withHessians });
  };

  return (
    <div className="calibration">
      <label>
        Text
        <select data-testid="calibration-source" value={source} onChange={(e) => setSource(e.target.value as TextSource)}>
          <option value="shipped">Shipped calibration.txt</option>
          <option value="pasted">Paste text</option>
          <option value="file">Upload a .txt file</option>
        </select>
      </label>
      {source === 'pasted' ? (
        <textarea aria-label="Calibration text" rows={4} value={pasted} onChange={(e) => setPasted(e.target.value)} />
      ) : null}
      {source === 'file' ? (
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
            max={256}
            value={samples}
            onChange={(e) => setSamples(Number(e.target.value))}
          />
        </label>
        <label>
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
      <button type="button" className="button" data-testid="calibrate" disabled={busy || !model} onClick={() => void run()}>
        Run calibration
      </button>
      {calibration ? (
        <p className="help" data-testid="calibration-summary">
          {calibration.tokens.toLocaleString()} tokens ({calibration.samples} × {calibration.seq}) of {calibration.textName}; dense loss{' '}
          {calibration.baseLoss.toFixed(4)} nats{calibration.withHessians ? '; Hessians ready' : ''}.
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
