/**
 * Pruning controls: global target, heads / FFN ratios, whole layers, allocation strategy,
 * criterion (from computed scores) and compensation; every change re-allocates and re-previews.
 * Allocations and compensations (names, explanations, what they need) come from the engine's registries.
 */
import { useStudio } from '../../../store';
import type { GlobalMetric } from '../../../store/plan';
import { allocationInfos, type Allocation } from '../../../prune/allocate';
import { compensationInfos, type Compensation } from '../../../prune/compensate';
import { unmetNeed } from '../../../prune/method';
import type { CriterionName } from '../../../saliency/types';
import { changeControls, computeMagnitude, measureUnitCosts, resolveCriterion } from '../../prune-actions';
import { LayerOverrides } from './LayerOverrides';

const ALLOCATIONS = allocationInfos();
const COMPENSATIONS = compensationInfos();

/** "A and B" / "A, B and C". */
function joinAnd(words: string[]): string {
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}` : (words[0] ?? '');
}

/** Labels of the compensations that need calibration (disabled until it has run). */
const NEED_CALIBRATION = joinAnd(COMPENSATIONS.filter((m) => m.needs.calibration).map((m) => m.label));

function Slider(props: {
  id: string;
  label: string;
  value: number;
  max: number;
  testId?: string;
  unit?: string;
  step?: number;
  onChange: (v: number) => void;
}) {
  const { id, label, value, max, unit = '%', step = 1, onChange } = props;
  return (
    <div className="slider-row">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="range"
        min={0}
        max={max}
        step={step}
        value={value}
        data-testid={props.testId}
        aria-valuetext={`${value}${unit}`}
        onChange={(e) => onChange(Number(e.target.value))}
      />
      <output htmlFor={id}>
        {value}
        {unit}
      </output>
    </div>
  );
}

const METRIC_LABEL: Record<GlobalMetric, string> = {
  parameters: 'of parameters',
  flops: 'of FLOPs',
  units: 'of heads and neurons',
};

/** The global target: a fraction of the model's parameters or FLOPs (solved by the engine), or of the units. */
function GlobalTarget() {
  const c = useStudio((s) => s.controls);
  const global = useStudio((s) => s.plan?.derivation?.global);
  const v = Math.round(c.global * 100);
  const units = (x: number) => ({ global: x, heads: x, ffn: x });
  const onValue = (x: number) => changeControls({ useGlobal: true, ...(c.globalMetric === 'units' ? units(x) : { global: x }) });
  return (
    <div className="global-target">
      <Slider id="global-slider" testId="global-slider" label="Global target" value={v} max={90} onChange={(x) => onValue(x / 100)} />
      <div className="field inline">
        <label htmlFor="global-metric">Target counts</label>
        <select
          id="global-metric"
          data-testid="global-metric"
          value={c.globalMetric}
          onChange={(e) => {
            const globalMetric = e.target.value as GlobalMetric;
            changeControls({ globalMetric, useGlobal: true, ...(globalMetric === 'units' ? units(c.global) : {}) });
          }}
        >
          {(Object.keys(METRIC_LABEL) as GlobalMetric[]).map((m) => (
            <option key={m} value={m}>
              {METRIC_LABEL[m]}
            </option>
          ))}
        </select>
      </div>
      {c.useGlobal && global && c.globalMetric !== 'units' ? (
        <p className="hint" data-testid="global-achieved">
          Removes {(global.achieved * 100).toFixed(1)} % {METRIC_LABEL[global.metric]} (whole model, forward at 128 tokens): heads and FFN{' '}
          {Math.round(c.heads * 100)} % each.
        </p>
      ) : null}
    </div>
  );
}

/** Latency allocation: the unit costs in use (FLOPs, or measured on this backend) and a way to measure them. */
function UnitCosts() {
  const u = useStudio((s) => s.unitLatency);
  const busy = useStudio((s) => s.job !== null && !s.job.id.startsWith('preview-'));
  return (
    <div className="unit-costs" data-testid="unit-costs">
      <p className="hint">
        {u
          ? `Costs measured on ${u.backend.name}${u.backend.threads ? ` (${u.backend.threads} threads)` : ''}, batch ${u.request.batch} × ${u.request.seq}: ${u.kvGroupMs.toFixed(3)} ms per head group, ${(u.neuronMs * 1000).toFixed(2)} µs per FFN neuron.`
          : 'Costs are FLOPs per token until you measure them on this device.'}
      </p>
      <button
        type="button"
        className="button secondary"
        data-testid="measure-unit-costs"
        disabled={busy}
        onClick={() => void measureUnitCosts()}
      >
        {u ? 'Measure again' : 'Measure unit latency'}
      </button>
    </div>
  );
}

export function PruneControls() {
  const c = useStudio((s) => s.controls);
  const model = useStudio((s) => s.model);
  const scores = useStudio((s) => s.scores);
  const calibration = useStudio((s) => s.calibration);
  const busy = useStudio((s) => s.job !== null && !s.job.id.startsWith('preview-'));
  // the criterion the next plan is made with (the one the current plan used, after undo / redo)
  const criterion = useStudio(resolveCriterion);
  const computed = Object.keys(scores) as CriterionName[];
  const pct = (x: number) => Math.round(x * 100);
  const L = model?.layers.length ?? 0;
  return (
    <section className="card prune-controls" aria-labelledby="controls-title">
      <h3 id="controls-title">Pruning controls</h3>
      {computed.length === 0 ? (
        <div className="notice-box" role="note">
          <p>Compute a criterion first: plans rank heads and neurons by importance scores.</p>
          <button
            type="button"
            className="button"
            data-testid="compute-magnitude"
            disabled={!model || busy}
            onClick={() => void computeMagnitude()}
          >
            Compute magnitude
          </button>
          <p className="hint">Magnitude (weight norms) needs no calibration.</p>
        </div>
      ) : (
        <div className="field">
          <label htmlFor="criterion-select">Criterion</label>
          <select
            id="criterion-select"
            data-testid="prune-criterion"
            value={criterion ?? ''}
            onChange={(e) => changeControls({ criterion: e.target.value as CriterionName })}
          >
            {computed.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
      )}
      <fieldset disabled={computed.length === 0} className="plain">
        <GlobalTarget />
        <Slider
          id="heads-slider"
          testId="heads-slider"
          label="Heads removed"
          value={pct(c.heads)}
          max={90}
          onChange={(v) => changeControls({ heads: v / 100, useGlobal: false })}
        />
        <Slider
          id="ffn-slider"
          testId="ffn-slider"
          label="FFN removed"
          value={pct(c.ffn)}
          max={90}
          onChange={(v) => changeControls({ ffn: v / 100, useGlobal: false })}
        />
        <Slider
          id="layers-slider"
          testId="layers-slider"
          label="Whole layers"
          unit=""
          value={c.layers}
          max={Math.max(L - 1, 0)}
          onChange={(v) => changeControls({ layers: v })}
        />
        <div className="field">
          <label htmlFor="allocation-select">Allocation</label>
          <select
            id="allocation-select"
            data-testid="allocation"
            value={c.allocation}
            onChange={(e) => changeControls({ allocation: e.target.value as Allocation })}
          >
            {ALLOCATIONS.map((a) => (
              <option key={a.name} value={a.name}>
                {a.name}
              </option>
            ))}
          </select>
          <p className="hint">
            <span className="plain">{ALLOCATIONS.find((a) => a.name === c.allocation)?.plain}</span>{' '}
            {ALLOCATIONS.find((a) => a.name === c.allocation)?.what}
          </p>
          {c.allocation === 'latency' ? <UnitCosts /> : null}
        </div>
        <div className="field">
          <label htmlFor="compensation-select">Compensation</label>
          <select
            id="compensation-select"
            data-testid="compensation"
            value={c.compensation}
            onChange={(e) => changeControls({ compensation: e.target.value as Compensation })}
          >
            {COMPENSATIONS.map((m) => {
              const unmet = unmetNeed(m.needs, calibration);
              return (
                <option key={m.name} value={m.name} disabled={unmet !== null}>
                  {m.name}
                  {unmet ? ` (needs calibration${m.needs.hessians ? ' with Hessians' : ''})` : ''}
                </option>
              );
            })}
          </select>
          <p className="hint">
            <span className="plain">{COMPENSATIONS.find((m) => m.name === c.compensation)?.plain}</span>{' '}
            {COMPENSATIONS.find((m) => m.name === c.compensation)?.what}
            {!calibration && NEED_CALIBRATION ? ` ${NEED_CALIBRATION} are disabled until you run calibration (step 2).` : ''}
          </p>
        </div>
        <LayerOverrides />
      </fieldset>
    </section>
  );
}
