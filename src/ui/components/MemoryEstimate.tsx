/**
 * The memory preflight of the loaded model (StudioApi.estimateMemory): predicted bytes per named
 * part at the peak phase of the planned path (perplexity, calibration 16 x 128 with Hessians,
 * generation, export), against the browser's budget, with the setting that would fit when it does not.
 */
import { useEffect, useState } from 'react';
import type { MemoryReport } from '../../api/types';
import { engine } from '../jobs';
import { bytes } from '../format';

const PLAN = { calibration: { samples: 16, seq: 128, withHessians: true }, generation: { tokens: 128 } };

export function MemoryEstimate({ fingerprint }: { fingerprint: string }) {
  const [report, setReport] = useState<MemoryReport | undefined>(undefined);
  useEffect(() => {
    let live = true;
    engine()
      .run('estimateMemory', [PLAN])
      .then((r) => live && setReport(r))
      .catch(() => live && setReport(undefined));
    return () => {
      live = false;
    };
  }, [fingerprint]);
  if (!report) return null;
  const { estimate, budget } = report;
  const parts = estimate.parts.filter((p) => p.phases.includes(estimate.peak.phase) && p.bytes > 0);
  const carried = estimate.phases.find((p) => p.phase === estimate.peak.phase)?.carriedWasmBytes ?? 0;
  return (
    <>
      <h3 id="memory-title">Memory (predicted from the shapes)</h3>
      <table className="kv-table" data-testid="memory-estimate" aria-labelledby="memory-title">
        <tbody>
          {parts.map((p) => (
            <tr key={p.name}>
              <th scope="row">{p.label}</th>
              <td>{bytes(p.bytes)}</td>
            </tr>
          ))}
          {carried > 0 ? (
            <tr>
              <th scope="row" title="onnxruntime's wasm heap never shrinks: a later step reuses the region an earlier one freed">
                Runtime heap kept from earlier steps
              </th>
              <td>{bytes(carried)}</td>
            </tr>
          ) : null}
          <tr>
            <th scope="row">Peak ({estimate.peak.phase})</th>
            <td>
              <strong>{bytes(estimate.peak.bytes)}</strong>
              {budget ? <span className="muted"> of {bytes(budget.bytes)} available</span> : null}
            </td>
          </tr>
        </tbody>
      </table>
      {report.problem ? (
        <p className="muted" data-testid="memory-problem">
          Does not fit: {report.problem}.{report.fit ? ` ${report.fit}.` : ''}
        </p>
      ) : null}
    </>
  );
}
