/** Centre panel: architecture, importance (heatmap, bars, FFN curves) and agreement, as tabs. */
import { useStudio } from '../../../store';
import { ArchitecturePanel } from '../ArchitecturePanel';
import { Agreement } from './Agreement';
import { FfnCurves, LayerBars } from '../lazy-charts';
import { Heatmap } from './Heatmap';
import { TeachPanel, TEACH_TABS } from '../teach/TeachPanel';
import { useTeach } from '../teach/teach-store';
import { MapLegend } from '../teach/ModelMap';

const TABS = [
  { id: 'architecture', label: 'Architecture' },
  { id: 'importance', label: 'Importance' },
  { id: 'agreement', label: 'Agreement' },
  ...TEACH_TABS,
] as const;

export function ImportanceView() {
  const tab = useTeach((s) => s.tab);
  const setTab = useTeach((s) => s.setTab);
  const scores = useStudio((s) => s.scores);
  const chosen = useStudio((s) => s.selectedCriterion);
  const select = useStudio((s) => s.selectCriterion);
  const computed = Object.keys(scores) as (keyof typeof scores)[];
  // the selected criterion if it was computed for this model, else the first one that was
  const selected = scores[chosen] ? chosen : (computed[0] ?? chosen);
  const current = scores[selected];
  return (
    <div className="centre-column">
      <div role="tablist" className="tabs" aria-label="Centre view">
        {TABS.map((t) => (
          <button
            key={t.id}
            role="tab"
            type="button"
            data-testid={`tab-${t.id}`}
            aria-selected={tab === t.id}
            className={tab === t.id ? 'tab active' : 'tab'}
            onClick={() => setTab(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      {tab === 'architecture' ? <ArchitecturePanel /> : null}
      {tab === 'importance' ? (
        <main id="main" className="centre panel" aria-label="Importance">
          <div role="tablist" className="tabs small">
            {computed.map((name) => (
              <button
                key={name}
                role="tab"
                type="button"
                data-testid={`criterion-tab-${name}`}
                aria-selected={name === selected}
                className={name === selected ? 'tab active' : 'tab'}
                onClick={() => select(name)}
              >
                {name}
              </button>
            ))}
          </div>
          {!current ? <p className="help">Compute a criterion (step 3) to see its scores.</p> : null}
          {current?.heads ? <Heatmap values={current.heads} layers={current.numLayers} heads={current.numHeads} /> : null}
          {current?.heads ? <MapLegend /> : null}
          {current && !current.heads ? <p className="help">{selected} scores whole layers only.</p> : null}
          {current ? <LayerBars scores={current} /> : null}
          {current ? <FfnCurves scores={current} /> : null}
        </main>
      ) : null}
      {tab === 'agreement' ? (
        <main id="main" className="centre panel" aria-label="Criterion agreement">
          <Agreement />
        </main>
      ) : null}
      <TeachPanel tab={tab} />
    </div>
  );
}
