/**
 * "Recover": train the applied model (after Apply, iterative or SlimGPT) towards the dense one
 * (api.recover in the worker): loss and its weights, step budget, learning rate, training sequences;
 * runs as a cancellable job with the loss per step drawn live (RecoveryCurve).
 */
import { useState } from 'react';
import { useStudio } from '../../../store';
import { runRecovery } from '../../recovery-actions';
import {
  RECOVERY_LOSSES,
  RECOVERY_UI_DEFAULTS,
  settingsProblem,
  TRAINING_SEQ,
  type RecoveryLoss,
  type RecoverySettings,
} from '../../recovery-params';
import { Explain } from '../Explain';
import { RecoveryCurve } from './RecoveryCurve';

interface NumberFieldProps {
  id: string;
  label: string;
  tip: string;
  value: number;
  step: number | 'any';
  min: number;
  onChange: (v: number) => void;
}

function NumberField({ id, label, tip, value, step, min, onChange }: NumberFieldProps) {
  return (
    <div className="field" title={tip}>
      <label htmlFor={id}>{label}</label>
      <input id={id} type="number" min={min} step={step} value={value} onChange={(e) => onChange(Number(e.target.value))} />
    </div>
  );
}

export function RecoverBlock() {
  const applied = useStudio((s) => s.applied);
  const busy = useStudio((s) => s.job !== null && !s.job.id.startsWith('preview-'));
  const [s, setS] = useState<RecoverySettings>(RECOVERY_UI_DEFAULTS);
  const set = (patch: Partial<RecoverySettings>) => setS((cur) => ({ ...cur, ...patch }));
  const problem = settingsProblem(s);
  const why = !applied ? 'Apply a plan (or run iterative or SlimGPT) first: recovery trains the applied model.' : problem;
  const loss = RECOVERY_LOSSES.find((l) => l.name === s.loss);
  return (
    <section className="card" aria-labelledby="recover-title">
      <h3 id="recover-title">Recover</h3>
      <div className="field" title={loss?.plain}>
        <label htmlFor="rec-loss">Loss</label>
        <select id="rec-loss" data-testid="recover-loss" value={s.loss} onChange={(e) => set({ loss: e.target.value as RecoveryLoss })}>
          {RECOVERY_LOSSES.map((l) => (
            <option key={l.name} value={l.name} title={l.plain}>
              {l.label}
            </option>
          ))}
        </select>
      </div>
      {s.loss === 'distill' ? (
        <div className="button-row">
          <NumberField
            id="rec-kl"
            label="KL weight"
            tip="How much the pruned model is pushed to give the same next-word probabilities as the original model."
            value={s.klWeight}
            step="any"
            min={0}
            onChange={(klWeight) => set({ klWeight })}
          />
          <NumberField
            id="rec-lm"
            label="LM weight"
            tip="How much the pruned model is pushed to predict the actual next word of the training text (0: only imitate the original)."
            value={s.lmWeight}
            step="any"
            min={0}
            onChange={(lmWeight) => set({ lmWeight })}
          />
        </div>
      ) : null}
      <NumberField
        id="rec-steps"
        label="Steps"
        tip="How many training updates to make. Each looks at 4 training sequences; more steps take longer and usually help more."
        value={s.steps}
        step={1}
        min={1}
        onChange={(steps) => set({ steps })}
      />
      <NumberField
        id="rec-lr"
        label="Learning rate"
        tip="How big each update is. Too large can make the model worse; the default worked on the demo model. It shrinks to 0 by the last step."
        value={s.learningRate}
        step="any"
        min={0}
        onChange={(learningRate) => set({ learningRate })}
      />
      <NumberField
        id="rec-samples"
        label={`Training sequences (${TRAINING_SEQ} tokens)`}
        tip="How much of calibration.txt to train on. The evaluation and held-out texts are never trained on."
        value={s.samples}
        step={1}
        min={1}
        onChange={(samples) => set({ samples })}
      />
      <button
        type="button"
        className="button secondary"
        data-testid="recover-run"
        disabled={busy || why !== null}
        aria-describedby={why ? 'recover-why' : undefined}
        onClick={() => void runRecovery(s)}
      >
        Recover ({s.steps} steps)
      </button>
      {why ? (
        <p className="hint" id="recover-why" data-testid="recover-why">
          {why}
        </p>
      ) : null}
      <RecoveryCurve />
      <Explain plain="Pruning damages the model; a short training run lets the remaining weights make up for what was removed.">
        Adam on every remaining linear weight of the blocks (q, k, v, o, gate, up, down), with the learning rate decaying to 0 over the
        steps (cosine). The loss is KL weight × cross-entropy to the dense model&apos;s next-token distribution (computed once and cached)
        plus LM weight × the usual next-token loss, on sequences of calibration.txt. Removed heads and neurons stay removed. The trained
        model becomes the applied model and gets its own results row (its curve is kept with it). Defaults: the bench&apos;s 60 steps at
        2e-4 on 64 sequences. Sources: Hinton et al., 2015 (distillation); Kingma &amp; Ba, 2015 (Adam); Ma et al., 2023 (LLM-Pruner).
      </Explain>
    </section>
  );
}
