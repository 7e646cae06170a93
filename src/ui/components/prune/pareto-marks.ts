/** The Pareto chart's axes and its marker per weight precision (Okabe–Ito colours), shared by the chart and its legend. */

export type Axis = 'parameters' | 'latency' | 'size';
export const AXIS_LABEL: Record<Axis, string> = { parameters: 'parameters (M)', latency: 'latency (ms)', size: 'model size (MB)' };

export type MarkShape = 'circle' | 'square' | 'triangle' | 'cross' | 'star' | 'wye';

/** fp32 rows are the applied plans themselves. */
const DTYPE_MARK: Record<string, { fill: string; shape: MarkShape }> = {
  fp32: { fill: '#0072B2', shape: 'circle' },
  fp16: { fill: '#56B4E9', shape: 'square' },
  int8: { fill: '#009E73', shape: 'triangle' },
  'int4-rtn': { fill: '#D55E00', shape: 'cross' },
  'int4-gptq': { fill: '#CC79A7', shape: 'star' },
};
export const markOf = (dtype: string): { fill: string; shape: MarkShape } => DTYPE_MARK[dtype] ?? { fill: '#000000', shape: 'wye' };

export interface ParetoPoint {
  x: number;
  y: number;
  name: string;
  dtype: string;
  label: string;
}
