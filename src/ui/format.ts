/** Display formatting for numbers with units (pure). */
import type { BackendInfo } from '../core/runner';

const BACKEND_NAMES: Record<string, string> = { wasm: 'WASM', webgpu: 'WebGPU', cpu: 'CPU', webgl: 'WebGL' };

export function backendLabel(b: BackendInfo): string {
  const name = BACKEND_NAMES[b.name] ?? b.name;
  return b.name === 'wasm' || b.name === 'cpu' ? `${name} · ${b.threads} thread${b.threads === 1 ? '' : 's'}` : name;
}

/** 1234567 -> "1.23 M" (with the exact count available for a title attribute). */
export function compactCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

/** One formatter: toLocaleString builds one per call (the first, ICU's setup, was measured at ~30 ms of the first render). */
const EXACT = new Intl.NumberFormat('en-US');

export function exactCount(n: number): string {
  return EXACT.format(n);
}

export function bytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

export function percent(done: number, total: number): number {
  if (!(total > 0)) return 0;
  return Math.max(0, Math.min(100, Math.round((100 * done) / total)));
}

export function fixed(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}
