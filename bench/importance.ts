/** Benchmark: calibration and each importance criterion on the demo model (time, peak RSS). */
import type { StudioApi } from '../src/api/types';
import { CRITERION_NAMES } from '../src/saliency/registry';
import { CALIB_TEXT, timed } from './common';

export async function benchImportance(api: StudioApi, samples = 16, seq = 128) {
  const calibration = await timed(() => api.calibrate({ text: CALIB_TEXT, textName: 'calibration.txt', samples, seq, withHessians: true }));
  const criteria: Record<string, { ms: number; peakRssMb: number }> = {};
  for (const name of CRITERION_NAMES) {
    const r = await timed(() => api.computeImportance(name));
    criteria[name] = { ms: Math.round(r.ms), peakRssMb: Math.round(r.peakRssMb) };
  }
  return {
    calibration: { samples, seq, withHessians: true, ms: Math.round(calibration.ms), peakRssMb: Math.round(calibration.peakRssMb) },
    criteria,
  };
}
