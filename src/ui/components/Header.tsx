/** Page header: the loaded model at a glance (name, backend, parameters, weight bytes), plan name, undo/redo, export. */
import { useStudio } from '../../store';
import { backendLabel, bytes, compactCount, exactCount } from '../format';
import { JobStatus } from './JobStatus';
import { PlanHeaderControls } from './prune/PlanHeaderControls';

export function Header() {
  const model = useStudio((s) => s.model);
  return (
    <header className="app-header">
      <div className="brand">
        <h1>Prune Studio</h1>
        <p className="tagline">structured pruning for Transformer language models, in your browser</p>
      </div>
      <dl className="facts" aria-label="Loaded model">
        <div>
          <dt>Model</dt>
          <dd data-testid="model-name">{model?.name ?? '—'}</dd>
        </div>
        <div>
          <dt>Backend</dt>
          <dd data-testid="backend" title={model?.backend.engine}>
            {model ? backendLabel(model.backend) : '—'}
          </dd>
        </div>
        <div>
          <dt>Params</dt>
          <dd title={model ? `${exactCount(model.parameters)} parameters` : undefined}>{model ? compactCount(model.parameters) : '—'}</dd>
        </div>
        <div>
          <dt>Weights</dt>
          <dd title={model ? `${exactCount(model.weightBytes)} bytes (float32)` : undefined}>{model ? bytes(model.weightBytes) : '—'}</dd>
        </div>
      </dl>
      <PlanHeaderControls />
      <JobStatus />
    </header>
  );
}
