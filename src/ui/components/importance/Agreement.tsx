/** Criterion agreement: Spearman rank correlation between every pair of computed criteria, per unit type. */
import { useState } from 'react';
import { agreementMatrix, type AgreementMatrix } from '../../../saliency/agreement';
import { useStudio } from '../../../store';
import { correlationColor } from './colors';

export function Agreement() {
  const scores = useStudio((s) => s.scores);
  const [unit, setUnit] = useState<AgreementMatrix['unit']>('heads');
  const m = agreementMatrix(
    unit,
    Object.values(scores).filter((s) => s !== undefined),
  );
  const n = m.criteria.length;
  return (
    <div className="agreement">
      <label>
        Units{' '}
        <select data-testid="agreement-unit" value={unit} onChange={(e) => setUnit(e.target.value as AgreementMatrix['unit'])}>
          <option value="heads">heads</option>
          <option value="ffn">FFN neurons</option>
          <option value="layers">layers</option>
        </select>
      </label>
      {n < 2 ? <p className="help">Compute at least two criteria that score {unit} to compare them.</p> : null}
      <table data-testid="agreement-matrix" className="agreement-matrix">
        <caption>Spearman rank correlation ({unit}); 1 = same ranking, 0 = unrelated, −1 = reversed</caption>
        <thead>
          <tr>
            <th />
            {m.criteria.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {m.criteria.map((row, i) => (
            <tr key={row}>
              <th scope="row">{row}</th>
              {m.criteria.map((col, j) => {
                const r = m.values[i * n + j]!;
                return (
                  <td
                    key={col}
                    data-testid="agreement-cell"
                    style={{ background: correlationColor(r), color: r > 0.2 ? '#000' : '#fff' }}
                    title={`${row} vs ${col}: ρ = ${r.toFixed(3)}`}
                  >
                    {Number.isFinite(r) ? r.toFixed(2) : '—'}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
