/**
 * Export memory on gpt2-124m (issue 11), Node + onnxruntime-web WASM: after a 50% magnitude apply
 * (no compensation), (1) encoding the with-past graph alone (decoderOnnx) and (2) the whole
 * api.exportModel (write, verify against the masked reference, the written file's perplexity when
 * --ppl measured the applied model's first). Each step: peak RSS (VmHWM, reset before the step via
 * /proc/self/clear_refs), RSS / ArrayBuffers / V8 heap / the rest (mostly the wasm heap) after it,
 * wall and CPU seconds, the load average. Linux only.
 *   node --expose-gc --import tsx bench/export-memory.ts [--ppl] [--label after] [--model dir]
 * writes bench/results/export-memory-node-wasm-<label>.json.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createStudioApi } from '../src/api/studio';
import { dirSource } from '../src/cli/dir-source';
import { decoderOnnx } from '../src/exporters/onnx';
import { createWebRunner } from '../src/runtime/ort-web';

const MB = 2 ** 20;
const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
const modelDir = arg('--model', 'tools/.cache/scale-models/gpt2-124m');
const label = arg('--label', 'after');
const gc = () => (globalThis as { gc?: () => void }).gc?.();
const peakRss = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
const resetPeak = () => writeFileSync('/proc/self/clear_refs', '5');

interface Row {
  step: string;
  peakRssMB: number;
  rssMB: number;
  arrayBuffersMB: number;
  v8MB: number;
  otherMB: number;
  wallS?: number;
  cpuS?: number;
  note?: string;
}
const rows: Row[] = [];

function snapshot(step: string, t0?: { wall: number; cpu: NodeJS.CpuUsage }, note?: string): void {
  const m = process.memoryUsage();
  const cpu = t0 && process.cpuUsage(t0.cpu);
  const row: Row = {
    step,
    peakRssMB: Math.round(peakRss()),
    rssMB: Math.round(m.rss / MB),
    arrayBuffersMB: Math.round(m.arrayBuffers / MB),
    v8MB: Math.round(m.heapUsed / MB),
    otherMB: Math.round((m.rss - m.arrayBuffers - m.heapUsed) / MB),
    ...(t0 && cpu ? { wallS: +((performance.now() - t0.wall) / 1000).toFixed(2), cpuS: +((cpu.user + cpu.system) / 1e6).toFixed(2) } : {}),
    ...(note ? { note } : {}),
  };
  rows.push(row);
  console.log(JSON.stringify(row));
}

async function step(name: string, f: () => Promise<string | undefined> | string | undefined): Promise<void> {
  gc();
  resetPeak();
  const t0 = { wall: performance.now(), cpu: process.cpuUsage() };
  const note = await f();
  snapshot(name, t0, note);
}

const api = createStudioApi({ runner: createWebRunner(), demoUrl: '', openDir: dirSource });
await api.loadModel({ kind: 'dir', path: modelDir });
await api.computeImportance('magnitude');
const plan = await api.allocatePlan({ criterion: 'magnitude', allocation: 'uniform', heads: 0.5, ffn: 0.5, layers: 0 });
await api.applyPlan({ plan, compensation: 'none' });
if (args.includes('--ppl')) {
  const text = readFileSync('public/data/evaluation.txt', 'utf8');
  const r = await api.evaluatePerplexity({
    text,
    textName: 'evaluation.txt',
    contextLength: 128,
    stride: 128,
    maxTokens: 1024,
    target: 'pruned',
  });
  console.log('applied model perplexity', r.perplexity);
}
gc();
snapshot('applied');
await step('encode with-past graph (decoderOnnx)', () => `${(decoderOnnx(api.state.loaded!.pruned!.ir).byteLength / MB).toFixed(1)} MB`);
await step('exportModel', async () => {
  const b = await api.exportModel();
  const card = new TextDecoder().decode(b.files.find((f) => f.name === 'README.md')!.bytes);
  const ppl = /measured after writing: \*\*([\d.]+)\*\*.*relative difference ([^)]+)\)/.exec(card);
  return `maxAbsLogitDiff ${b.verification.maxAbsLogitDiff}${ppl ? `; written file's perplexity ${ppl[1]} (vs the session: ${ppl[2]})` : ''}`;
});
const result = {
  bench: 'export-memory',
  label,
  model: modelDir,
  ppl: args.includes('--ppl'),
  loadavg: loadavg().map((x) => +x.toFixed(2)),
  node: process.version,
  rows,
};
writeFileSync(
  `bench/results/export-memory-node-wasm-${label}${args.includes('--ppl') ? '-ppl' : ''}.json`,
  JSON.stringify(result, null, 2) + '\n',
);
console.log('load average', result.loadavg.join(' '));
