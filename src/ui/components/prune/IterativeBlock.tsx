/** Iterative prune-and-recover: target, rounds, criterion, recovery; perplexity after each round. */
import { useState } from 'react';
import { useStudio } from '../../../store';
import { recoveryInfos, usesTraining, type Recovery } from '../../../prune/recovery/registry';
import type { CriterionName } from '../../../saliency/types';
import { fixed } from '../../format';
import { runIterative } from '../../method-actions';
import { Explain } from '../Explain';
import { PercentField } from './PercentField';

/** Every recovery of the engine's registry (src/prune/recovery), with its plain sentence as the tooltip. */
const RECOVERY = recoveryInfos();

export function IterativeBlock() {
  const criteria = useStudio((s) => s.criteria);
  const calibration = useStudio((s) => s.calibration);
  const rounds = useStudio((s) => s.iterativeRounds);
  const busy = useStudio((s) => s.job !== null && !s.job.id.startsWith('preview-'));
  const [target, setTarget] = useState(30);
  const [n, setN] = useState(3);
  const [criterion, setCriterion] = useState<CriterionName>('magnitude');
  const [recovery, setRecovery] = useState<Recovery>('none');
  // training recoveries: steps on the final structure after the last round (the bench's schedule: 60)
  const [finalSteps, setFinalSteps] = useState(60);
  const trains = usesTraining(recovery);
  // every recovery re-collects what it needs each round on the calibration set (Hessians included)
  const chosen = RECOVERY.find((r) => r.name === recovery);
  const names = criteria.length ? criteria.map((c) => c.name) : (['magnitude'] as CriterionName[]);
  return (
    <details className="card iterative">
      <summary>Iterative prune-and-recover</summary>
      {!calibration ? (
        <p className="hint">Needs calibration (step 2): each round recomputes the criterion on the calibration set.</p>
      ) : null}
      <PercentField id="it-target" label="Target removed (heads and FFN)" value={target} onChange={setTarget} />
      <div className="field">
        <label htmlFor="it-rounds">Rounds</label>
        <input
          id="it-rounds"
          type="number"
          min={1}
          max={10}
          value={n}
          onChange={(e) => setN(Math.max(1, Math.min(10, Number(e.target.value))))}
        />
      </div>
      <div className="field">
        <label htmlFor="it-criterion">Criterion</label>
        <select id="it-criterion" value={criterion} onChange={(e) => setCriterion(e.target.value as CriterionName)}>
          {names.map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
      </div>
      <div className="field" title={chosen?.plain}>
        <label htmlFor="it-recovery">Recovery</label>
        <select id="it-recovery" value={recovery} onChange={(e) => setRecovery(e.target.value as Recovery)}>
          {RECOVERY.map((r) => (
            <option key={r.name} value={r.name} title={r.plain}>
              {r.name}
            </option>
          ))}
        </select>
      </div>
      {chosen ? <p className="hint">{chosen.plain}</p> : null}
      {trains ? (
        <div
          className="field"
          title="Distillation steps on the final structure after the last round, on the same Adam and learning-rate schedule as the rounds."
        >
          <label htmlFor="it-final-steps">Final training steps</label>
          <input
            id="it-final-steps"
            type="number"
            min={0}
            max={2000}
            value={finalSteps}
            onChange={(e) => setFinalSteps(Math.max(0, Math.min(2000, Math.round(Number(e.target.value)) || 0)))}
          />
        </div>
      ) : null}
      <button
        type="button"
        className="button secondary"
        data-testid="iterative-run"
        disabled={busy || !calibration}
        onClick={() =>
          void runIterative({
            criterion,
            heads: target / 100,
            ffn: target / 100,
            rounds: n,
            recovery,
            ...(trains ? { finalSteps } : {}),
          })
        }
      >
        Run {n} rounds
      </button>
      {rounds.length > 0 ? (
        <table className="compact-table" data-testid="iterative-rounds">
          <thead>
            <tr>
              <th scope="col">Round</th>
              <th scope="col">Heads</th>
              <th scope="col">FFN</th>
              <th scope="col">Perplexity</th>
            </tr>
          </thead>
          <tbody>
            {rounds.map((r) => (
              <tr key={r.round}>
                <td>{r.final ? 'final' : r.round}</td>
                <td>
                  {r.headsRemoved}/{r.headsTotal}
                </td>
                <td>
                  {r.ffnRemoved}/{r.ffnTotal}
                </td>
                <td>{fixed(r.perplexity)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Explain plain="Prune a little, repair, and repeat, instead of cutting everything at once.">
        Instead of removing everything at once, each round removes about 1 − (1 − target)^(1/rounds) of what remains, recomputes the
        criterion on the masked model, then recovers (OBS weight update, a few gradient steps, distillation training of every remaining
        weight towards the dense model, or nothing). The result becomes the applied model, so Export and Generate use it. Round perplexities
        and the final one use the same tokens: the first 8,192 of the evaluation text, as Apply does.
      </Explain>
    </details>
  );
}
