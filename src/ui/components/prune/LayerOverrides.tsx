/** Per-layer overrides of the head / FFN fractions and locks (a locked layer is never pruned). */
import { useStudio } from '../../../store';
import { changeControls } from '../../prune-actions';

/** A percentage input; empty means "follow the sliders". */
function OverrideCell({ label, value, onChange }: { label: string; value: string; onChange: (raw: string) => void }) {
  return (
    <td>
      <input type="number" min={0} max={90} placeholder="—" aria-label={label} value={value} onChange={(e) => onChange(e.target.value)} />
    </td>
  );
}

export function LayerOverrides() {
  const model = useStudio((s) => s.model);
  const c = useStudio((s) => s.controls);
  if (!model) return null;
  const setOverride = (layer: number, kind: 'heads' | 'ffn', raw: string) => {
    const overrides = { ...c.overrides };
    const entry = { ...overrides[layer] };
    if (raw === '') delete entry[kind];
    else entry[kind] = Math.min(90, Math.max(0, Number(raw))) / 100;
    if (entry.heads === undefined && entry.ffn === undefined) delete overrides[layer];
    else overrides[layer] = entry;
    changeControls({ overrides });
  };
  const toggleLock = (layer: number) =>
    changeControls({ locked: c.locked.includes(layer) ? c.locked.filter((l) => l !== layer) : [...c.locked, layer].sort((a, b) => a - b) });
  const show = (v: number | undefined) => (v === undefined ? '' : String(Math.round(v * 100)));
  return (
    <details className="layer-overrides">
      <summary>Per-layer overrides and locks</summary>
      <table className="compact-table" data-testid="layer-overrides">
        <thead>
          <tr>
            <th scope="col">Layer</th>
            <th scope="col">Heads %</th>
            <th scope="col">FFN %</th>
            <th scope="col">Lock</th>
          </tr>
        </thead>
        <tbody>
          {model.layers.map((_, i) => (
            <tr key={i}>
              <th scope="row">{i}</th>
              <OverrideCell
                label={`Layer ${i} heads removed (%)`}
                value={show(c.overrides[i]?.heads)}
                onChange={(v) => setOverride(i, 'heads', v)}
              />
              <OverrideCell
                label={`Layer ${i} FFN removed (%)`}
                value={show(c.overrides[i]?.ffn)}
                onChange={(v) => setOverride(i, 'ffn', v)}
              />
              <td>
                <input type="checkbox" aria-label={`Lock layer ${i}`} checked={c.locked.includes(i)} onChange={() => toggleLock(i)} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="hint">Empty = follow the sliders. A locked layer keeps all its heads and neurons.</p>
    </details>
  );
}
