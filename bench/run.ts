/**
 * `npm run bench`: benchmarks on the demo model, written as JSON under bench/results/.
 *   importance-<backend>.json  calibration + criteria time and peak memory
 *   quality-<backend>.json     50% / 70% pruning: criteria vs random, compensation none/bias/obs
 *   latency-<backend>.json     measured vs FLOP-bound speedup for ratios 0..70%
 *   preview-<backend>.json     live preview: time to the first streamed perplexity estimate
 *   iterative-<backend>.json   iterative prune-and-recover vs one-shot (Taylor, 50% / 70%)
 *   recovery-<backend>.json    distillation recovery training: one-shot, one-shot + recovery, iterative + recovery (held-out text)
 *   generate-<backend>.json    generation tokens/s without / with the KV cache (demo; + GPT-2-124M shape with --scale)
 *   quantize-<backend>.json    50% pruned, then fp32 / fp16 / int8 / int4 RTN / int4 GPTQ: bytes, perplexity, latency;
 *                              sizeTarget: --target parameters 0.5 + int4 (demo, gpt2-124m); --no-quantize-base keeps the stored rows,
 *                              --size-target demo|gpt2-124m runs one of the two
 *   linalg-node.json           float64 Cholesky / inverse / OBS kernels at n = 768 and 3,072 (no model), one thread and threaded
 *   scale-node-wasm.json       real-size shapes (tools/scale-models): time, CPU and peak RSS per step (opt-in: --only scale)
 *   scale-chromium-wasm.json   the same steps in the built app in Chromium (--only scale --part chromium [--models a,b]; bench/scale-browser.ts)
 *   scale-node-webgpu.json     the same steps on onnxruntime-web's WebGPU provider in Node with Dawn (--only scale --webgpu <webgpu npm
 *                              package dir>; on a GPU machine: bench/device-webgpu.sh), and webgpu-parity-node.json (bench/webgpu-parity.ts)
 *   memory-prediction.json     the memory preflight replayed over the measured scale steps: predicted vs measured peak
 *                              (after --only scale, or alone: --only memory-prediction; bench/memory-prediction.ts)
 * Backends: node-wasm (onnxruntime-web in Node) always; node-cpu (onnxruntime-node) with --cpu;
 * chromium-wasm via bench/browser.ts (needs the built app and Debian chromium) unless --no-browser.
 *   memory-<backend>.json      peak RSS per step on gpt2-124m (bench/memory.ts; only with --only memory,
 *                              after npm run scale-models; --model <dir> picks another folder)
 *   cancel-node-wasm.json      cancel latency of calibration / OBS / apply-obs on gpt2-124m (opt-in: --only cancel)
 *   vit-node-wasm.json         demo ViT (Fashion-MNIST) at 50% FLOPs removed: accuracy, drop, measured vs FLOP-bound speedup (bench/vit.ts), + recovery rows
 *   vit-recovery-node.json     demo ViT + OBS + recovery training at 50% FLOPs (bench/vit-recovery.ts; --only vit-recovery, --vit-rows a,b);
 *                              vit-recovery-select-node.json: its steps / learning-rate choice on a validation split (--only vit-recovery-select)
 *   fuzz.json                  mutation fuzzing of every input format (--only fuzz; --fuzz-cases N, default 2000)
 * --only recovery --part redistribution: only the redistribution rows (heads-only 50%), merged into recovery-<backend>.json.
 * Flags: --only importance|quality|latency|preview|iterative|recovery|generate|quantize|linalg|scale|memory-prediction|fuzz|memory|cancel|vit|vit-recovery|vit-recovery-select|torch-ratio; --scalar (linalg without WebAssembly SIMD)
 */
import { createWebRunner } from '../src/runtime/ort-web';
import { createNodeRunner } from '../src/runtime/ort-node';
import { CALIB_TEXT, DEMO, openDemo, readResult, writeResult } from './common';
import { benchImportance } from './importance';
import { benchQuality } from './quality';
import { benchLatency } from './latency';
import { benchPreview } from './preview';
import { benchIterative } from './iterative';
import { benchRecovery, both } from './recovery';
import { benchRedistribution } from './redistribution';
import { existsSync, readFileSync } from 'node:fs';
import { benchGenerate } from './generate';
import { benchLinalgThreads, withBefore } from './linalg';
import { runScaleBench } from './scale';
import { runScaleBrowserBench } from './scale-browser';
import { runMemoryPrediction } from './memory-prediction';
import { benchQuantize } from './quantize';
import { benchSizeTargets } from './quantize-target';
import { benchFuzz } from './fuzz';
import { benchMemory } from './memory';
import { benchCancel } from './cancel';
import type { CancelJob } from './cancel-worker';
import { benchVit } from './vit';
import { benchVitRecovery, benchVitRecoverySelect, type VitRow } from './vit-recovery';
import { benchTorchRatio } from './torch-ratio';

const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const want = (name: string) => !only || only === name;

const flagValue = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);

async function main() {
  if (only === 'fuzz') {
    const result = await benchFuzz(createNodeRunner({ threads: 1 }), flagValue('--fuzz-cases', 2000), flagValue('--fuzz-seed', 7), (l) =>
      console.log(l),
    );
    console.log('wrote', writeResult('fuzz', result));
    return;
  }
  if (only === 'cancel') {
    const model = args.includes('--model') ? args[args.indexOf('--model') + 1] : undefined;
    const jobs = args.includes('--jobs') ? (args[args.indexOf('--jobs') + 1]!.split(',') as CancelJob[]) : undefined;
    const o = { model, jobs, trials: flagValue('--trials', 3), samples: flagValue('--samples', 4), seq: flagValue('--seq', 128) };
    const result = await benchCancel({ ...o, log: (l) => console.log(l) });
    // --jobs a,b: the other jobs' stored rows stay (each job row carries its own load average)
    const kept = jobs ? ((readResult('cancel-node-wasm').jobs as Record<string, unknown> | undefined) ?? {}) : {};
    console.log('wrote', writeResult('cancel-node-wasm', 'jobs' in result ? { ...result, jobs: { ...kept, ...result.jobs } } : result));
    return;
  }
  if (only === 'torch-ratio') {
    const runner = createWebRunner();
    const result = await benchTorchRatio(await openDemo(runner), runner, (l) => console.log(l));
    console.log('wrote', writeResult('torch-ratio-node-wasm', result));
    return;
  }
  if (only === 'scale' && args[args.indexOf('--part') + 1] === 'chromium') {
    await runScaleBrowserBench(args); // bench/scale-browser.ts
    return runMemoryPrediction();
  }
  if (only === 'scale') {
    await runScaleBench(args); // opt-in only: tens of minutes (bench/scale.ts)
    return runMemoryPrediction(); // the preflight's predictions replayed over what was measured
  }
  if (only === 'memory-prediction') return runMemoryPrediction();
  if (want('linalg')) {
    const simd = !args.includes('--scalar');
    const result = withBefore(await benchLinalgThreads({ simd, log: (l) => console.log(l) }));
    console.log('wrote', writeResult(simd ? 'linalg-node' : 'linalg-node-scalar', result));
  }
  if (only === 'linalg') return;
  if (only === 'vit-recovery-select') {
    console.log(
      'wrote',
      writeResult('vit-recovery-select-node', await benchVitRecoverySelect(createNodeRunner({ threads: 1 }), (l) => console.log(l))),
    );
    return;
  }
  if (only === 'vit-recovery') {
    const rows = (args.includes('--vit-rows') ? args[args.indexOf('--vit-rows') + 1]! : 'magnitude,taylor,nvit,nvit-global').split(
      ',',
    ) as VitRow[];
    const name = args.includes('--vit-rows') ? `vit-recovery-node-${rows.join('-')}` : 'vit-recovery-node';
    console.log('wrote', writeResult(name, await benchVitRecovery(createNodeRunner({ threads: 1 }), rows, (l) => console.log(l))));
    return;
  }
  if (want('vit')) {
    const result = await benchVit(createWebRunner(), (l) => console.log(l));
    // + recovery rows (bench/vit-recovery.ts): training in onnxruntime-node, the same test images
    const recovery = await benchVitRecovery(createNodeRunner({ threads: 1 }), ['magnitude', 'taylor', 'nvit', 'nvit-global'], (l) =>
      console.log(l),
    );
    console.log('wrote', writeResult('vit-node-wasm', { ...result, recovery }));
  }
  if (only === 'vit') return;
  const backends = [
    { name: 'node-wasm', runner: createWebRunner() },
    ...(args.includes('--cpu') ? [{ name: 'node-cpu', runner: createNodeRunner() }] : []),
  ];
  for (const { name, runner } of backends) {
    if (only === 'memory') {
      const model = args.includes('--model') ? args[args.indexOf('--model') + 1] : undefined;
      console.log('wrote', writeResult(`memory-${name}`, await benchMemory(runner, { model, log: (l) => console.log(l) })));
      continue;
    }
    const api = await openDemo(runner);
    if (want('importance')) console.log('wrote', writeResult(`importance-${name}`, await benchImportance(api)));
    if (want('quality')) console.log('wrote', writeResult(`quality-${name}`, await benchQuality(api, undefined, (l) => console.log(l))));
    if (want('latency')) console.log('wrote', writeResult(`latency-${name}`, await benchLatency(api)));
    if (want('preview')) console.log('wrote', writeResult(`preview-${name}`, await benchPreview(api)));
    if (want('recovery')) {
      // --part redistribution: only the redistribution rows, merged into the existing recovery JSON
      const path = `bench/results/recovery-${name}.json`;
      const part = args.includes('--part') ? args[args.indexOf('--part') + 1] : undefined;
      const prev = part === 'redistribution' && existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : {};
      const { machine: previousMachine, ...kept } = prev;
      const main =
        part === 'redistribution'
          ? { ...kept, rowsMachine: prev.rowsMachine ?? previousMachine }
          : await benchRecovery(api, { log: (l) => console.log(l) });
      const redistribution = await benchRedistribution(api, {
        log: (l) => console.log(l),
        both,
        calibrate: (a) => a.calibrate({ text: CALIB_TEXT, textName: 'calibration.txt', samples: 16, seq: 128, withHessians: true }),
      });
      console.log('wrote', writeResult(`recovery-${name}`, { ...main, redistribution }));
    }
    if (want('iterative'))
      console.log('wrote', writeResult(`iterative-${name}`, await benchIterative(api, { log: (l) => console.log(l) })));
    if (want('generate')) {
      const o = { promptTokens: 32, newTokens: 32, rounds: 5, scale: args.includes('--scale'), log: (l: string) => console.log(l) };
      console.log('wrote', writeResult(`generate-${name}`, await benchGenerate(runner, api.state.loaded!.ir, o)));
    }
    if (want('quantize')) {
      // --no-quantize-base keeps the stored variant rows and only adds the size-target runs (bench/quantize-target.ts).
      const log = (l: string) => console.log(l);
      const base = args.includes('--no-quantize-base') ? readResult(`quantize-${name}`) : await benchQuantize(api, runner, log);
      // --size-target demo|gpt2-124m runs one of the two (the other keeps its stored result); --no-size-target skips both.
      const which = (args.includes('--size-target') ? args[args.indexOf('--size-target') + 1] : 'all') as 'demo' | 'gpt2-124m' | 'all';
      const stored = (readResult(`quantize-${name}`).sizeTarget ?? {}) as Record<string, unknown>;
      const sizeTarget = args.includes('--no-size-target') ? undefined : await benchSizeTargets(runner, DEMO, log, which, stored);
      console.log('wrote', writeResult(`quantize-${name}`, { ...base, ...(sizeTarget ? { sizeTarget } : {}) }));
    }
  }
  if (!args.includes('--no-browser') && (want('latency') || want('importance') || want('preview'))) {
    const { benchBrowser } = await import('./browser');
    console.log('wrote', writeResult('chromium-wasm', await benchBrowser()));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
