/**
 * Right column: the live preview (kept in view while the controls scroll on wide screens),
 * pruning controls, apply, recovery training, quantize, plan files and timeline, iterative prune-and-recover, SlimGPT, and the
 * dense baseline (compact, after the pruning rail on wide screens).
 */
import { useEffect, useRef } from 'react';
import { useStudio } from '../../../store';
import { loadPlanFile, savePlan } from '../../plan-files';
import { watchPlan } from '../../prune-actions';
import { BaselinePanel } from '../BaselinePanel';
import { IterativeBlock } from './IterativeBlock';
import { SlimGptBlock } from './SlimGptBlock';
import { PruneControls } from './PruneControls';
import { ApplyBlock, PreviewBlock } from './PreviewApply';
import { RecoverBlock } from './RecoverBlock';
import { QuantizeBlock } from './QuantizeBlock';

function PlanFiles() {
  const plan = useStudio((s) => s.plan);
  const history = useStudio((s) => s.history);
  const index = useStudio((s) => s.historyIndex);
  const goTo = useStudio((s) => s.goTo);
  const input = useRef<HTMLInputElement>(null);
  return (
    <section className="card" aria-labelledby="plans-title">
      <h3 id="plans-title">Plans</h3>
      <div className="button-row">
        <button type="button" className="button secondary" data-testid="save-plan" disabled={!plan} onClick={savePlan}>
          Save plan
        </button>
        <button type="button" className="button secondary" onClick={() => input.current?.click()}>
          Load plan…
        </button>
        <input
          ref={input}
          type="file"
          accept=".json,application/json"
          className="visually-hidden"
          data-testid="load-plan"
          aria-label="Load a plan file"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void loadPlanFile(f);
            e.target.value = '';
          }}
        />
      </div>
      {history.length > 0 ? (
        <ol className="timeline" data-testid="plan-timeline" aria-label="Plan timeline">
          {history.map((p, i) => (
            <li key={i}>
              <button
                type="button"
                className={`link${i === index ? ' current' : ''}`}
                aria-current={i === index ? 'step' : undefined}
                onClick={() => goTo(i)}
              >
                {p.name}
              </button>
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  );
}

export function PrunePanel() {
  useEffect(() => watchPlan(), []);
  return (
    <div className="right-stack">
      <div className="baseline-compact">
        <BaselinePanel />
      </div>
      <aside className="rail rail-prune" aria-labelledby="prune-title">
        <h2 id="prune-title">Prune</h2>
        <PreviewBlock />
        <PruneControls />
        <ApplyBlock />
        <RecoverBlock />
        <QuantizeBlock />
        <PlanFiles />
        <IterativeBlock />
        <SlimGptBlock />
      </aside>
    </div>
  );
}
