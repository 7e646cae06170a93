/**
 * Scale benchmark (issue 11): the whole path on size-faithful models (tools/scale-models, generated
 * on demand) through the StudioApi in Node — load, dense perplexity, latency, calibration with
 * Hessians, OBS criterion, apply 50% with OBS, export — each step's wall time, CPU time (all
 * threads of the process) and peak RSS, against the model's float32 weight bytes.
 *   npm run bench -- --only scale [--models gpt2-124m,smollm2-135m,qwen2.5-0.5b]
 *     [--steps load,perplexity,latency,generate,calibrate,obs,criteria,preview,apply,export,slimgpt] [--tokens 8192]
 *     [--samples 16] [--seq 128] [--runs 10] [--threads N] [--cpu] [--slimgpt-tokens N] [--in-process] [--grams-in-ram]
 *     [--criteria magnitude,wanda,...] [--suffix NAME]
 * The criteria step measures every other text criterion one by one (`criterion:<name>` records; a
 * criterion that fails records its error); preview is the live preview of a 50% plan (masks on the
 * dense model) over the dense perplexity's protocol.
 * The slimgpt step (SlimGPT 50% heads + FFN, uniform, after export so export measures the OBS apply)
 * records layersMs (the layer-wise pruning) beside the whole step (which ends with the pruned
 * model's perplexity over --slimgpt-tokens, default --tokens).
 * Writes bench/results/scale-node-wasm.json (onnxruntime-web in Node; the records of models not in
 * this run are kept from the file's earlier run, each with its own settings) and, with --cpu,
 * scale-node-cpu.json (onnxruntime-node); --in-process keeps latency and generation sessions in the
 * engine's realm instead of a disposable isolate (api/isolation.ts) and writes *-in-process.json;
 * --grams-in-ram keeps the calibration Grams in memory (StudioDeps.gramStorage 'never') instead of
 * the temp file a large model's go to (api/gram-storage.ts) and writes *-grams-in-ram.json. Each model runs in its own child process so its memory
 * is measured from a clean start. Peak RSS per step: the kernel's high-water mark (VmHWM, reset
 * through /proc/self/clear_refs before the step), and a 50 ms sampler where /proc is unavailable.
 * The after-step RSS and its breakdown are read after full garbage collections (settled).
 * Skipped steps degrade the later ones: apply without OBS scores uses magnitude, without Hessians
 * no compensation; export without an applied plan exports the dense graph.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { useNodeGemmThreads } from '../src/cli/gemm-threads-node';
import { createStudioApi } from '../src/api/studio';
import type { StudioApi } from '../src/api/types';
import type { CriterionName } from '../src/saliency/types';
import { dirSource } from '../src/cli/dir-source';
import { fileGramStore } from '../src/cli/gram-file-store';
import { collectGarbage } from '../src/cli/collect-garbage';
import type { Runner } from '../src/core/runner';
import type * as OrtNodeModule from '../src/runtime/ort-node';
import { createWebRunner } from '../src/runtime/ort-web';
import { ensureModel } from '../tools/scale-models/write';
import { MODEL_NAMES } from '../tools/scale-models/shapes';
import { CALIB_TEXT, EVAL_TEXT, flag, writeResult } from './common';
import { installDawn, ortWasmPaths } from './webgpu-node';

export const STEPS = [
  'load',
  'perplexity',
  'latency',
  'generate',
  'calibrate',
  'obs',
  'criteria',
  'preview',
  'apply',
  'export',
  'slimgpt',
] as const;
type Step = (typeof STEPS)[number];
/** The criteria step's criteria (every text criterion other than OBS, which has its own step), each measured as `criterion:<name>`. */
const OTHER_CRITERIA = [
  'magnitude',
  'wanda',
  'flap',
  'block-influence',
  'ablation',
  'taylor',
  'fisher',
] as const satisfies readonly CriterionName[];
type Backend = 'node-wasm' | 'node-cpu' | 'node-webgpu';

interface Options {
  model: string;
  dir: string;
  backend: Backend;
  steps: Step[];
  tokens: number;
  samples: number;
  seq: number;
  runs: number;
  /** Tokens of the pruned-perplexity evaluation that ends the SlimGPT step (default: tokens). */
  slimgptTokens?: number;
  threads?: number;
  /** The criteria step's criteria (default OTHER_CRITERIA). */
  criteria?: CriterionName[];
  /** Appended to the results file's name (scale-node-wasm-<suffix>.json), for a partial run kept apart. */
  suffix?: string;
  /** Keep latency and generation sessions in process (StudioDeps.isolateSessions 'never'), for comparison. */
  inProcess?: boolean;
  /** Keep the calibration Grams in memory (StudioDeps.gramStorage 'never'), for comparison. */
  gramsInRam?: boolean;
  /** node-webgpu: the `webgpu` npm package's folder (Dawn; bench/webgpu-node.ts). */
  dawn?: string;
  /** node-webgpu: also accept a software adapter (SwiftShader), for checking the path on a machine without a GPU. */
  softwareGpu?: boolean;
  /** Where onnxruntime-web's wasm files are (a bundled bench has them apart from node_modules). */
  wasmPaths?: string;
}

interface StepRecord {
  /** A step, or `criterion:<name>` for each criterion of the criteria step. */
  step: string;
  wallMs: number;
  /** User + system CPU time of the whole process (all threads) during the step. */
  cpuMs: number;
  peakRssMb: number;
  /** At the largest sampled RSS: that RSS and heapBreakdown (the rest of the RSS is the wasm heaps and the runtime). */
  atSampledPeakMb: { rss: number; v8: number; arrayBuffers: number; otherExternal: number };
  rssAfterMb: number;
  /** Peak RSS / float32 weight bytes (issue 11 target: <= 2.5). */
  peakOverFp32: number;
  /** The machine's 1-minute load average at the start and the end of the step (shared machines inflate wall time). */
  loadAverage: [number, number];
  detail: Record<string, unknown>;
}

const MB = 2 ** 20;

/** Peak RSS since the last reset: VmHWM from /proc (reset by writing 5 to clear_refs), else sampled. */
class PeakRss {
  private sampled = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  readonly kernel = existsSync('/proc/self/clear_refs');
  /** process.memoryUsage() at the largest sampled RSS (where the step's memory was, at its sampled peak). */
  atPeak: NodeJS.MemoryUsage = process.memoryUsage();

  start(): void {
    if (this.kernel) writeFileSync('/proc/self/clear_refs', '5');
    this.atPeak = process.memoryUsage();
    this.sampled = this.atPeak.rss;
    this.timer = setInterval(() => {
      const m = process.memoryUsage();
      if (m.rss > this.sampled) [this.sampled, this.atPeak] = [m.rss, m];
    }, 50);
  }

  stop(): number {
    clearInterval(this.timer);
    const now = process.memoryUsage().rss;
    const hwm = this.kernel ? vmHwmBytes() : 0;
    return Math.max(this.sampled, now, hwm);
  }
}

function vmHwmBytes(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Where the RSS after a step lives: V8's heap, ArrayBuffers (JS-held weights), other external memory (the wasm heap). */
function heapBreakdown(m = process.memoryUsage()): { v8: number; arrayBuffers: number; otherExternal: number } {
  return {
    v8: Math.round(m.heapUsed / MB),
    arrayBuffers: Math.round(m.arrayBuffers / MB),
    otherExternal: Math.round((m.external - m.arrayBuffers) / MB),
  };
}

/**
 * Full garbage collections (the child runs with --expose-gc) with a pause between them, so
 * ArrayBuffers freed during the step (swept concurrently) no longer count in the after-step numbers.
 */
async function settle(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 2 && gc; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 100));
  }
}

const round = (x: number, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits;

async function measure(step: string, fp32Bytes: number, fn: () => Promise<Record<string, unknown>>): Promise<StepRecord> {
  const peak = new PeakRss();
  const load0 = loadavg()[0]!;
  peak.start();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const detail = await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const peakBytes = peak.stop();
  await settle();
  const record = {
    step,
    wallMs: round(wallMs),
    cpuMs: round((cpu.user + cpu.system) / 1000),
    peakRssMb: round(peakBytes / MB),
    atSampledPeakMb: { rss: round(peak.atPeak.rss / MB), ...heapBreakdown(peak.atPeak) },
    rssAfterMb: round(process.memoryUsage().rss / MB),
    heapAfterMb: heapBreakdown(),
    peakOverFp32: round(peakBytes / fp32Bytes, 2),
    loadAverage: [round(load0, 1), round(loadavg()[0]!, 1)] as [number, number],
    detail,
  };
  console.log(
    `  ${step}: ${(wallMs / 1000).toFixed(1)} s wall, ${(record.cpuMs / 1000).toFixed(1)} s cpu, peak ${record.peakRssMb} MB (${record.peakOverFp32}x fp32 weights; at the sampled peak ${JSON.stringify(record.atSampledPeakMb)}), after: rss ${record.rssAfterMb} MB, ${JSON.stringify(record.heapAfterMb)}`,
  );
  return record;
}

/** Runs the requested steps on one model in this process. */
async function createRunner(o: Options): Promise<{ runner: Runner; adapter?: unknown }> {
  const threads = o.threads ? { threads: o.threads } : {};
  if (o.backend === 'node-cpu') {
    // not a literal: the bundled bench (bench/device-webgpu.sh) carries no onnxruntime-node
    const specifier = '../src/runtime/ort-node';
    const { createNodeRunner } = (await import(specifier)) as typeof OrtNodeModule;
    return { runner: createNodeRunner(threads) };
  }
  if (o.backend === 'node-wasm') return { runner: createWebRunner(threads) };
  if (!o.dawn) throw new Error('node-webgpu needs --webgpu <folder of the webgpu npm package>');
  const adapter = await installDawn(o.dawn);
  const options = { isolate: false, preferWebGpu: true, allowSoftwareGpu: o.softwareGpu === true, ...threads };
  return { runner: createWebRunner({ ...options, wasmPaths: ortWasmPaths(o.wasmPaths) }), adapter };
}

async function runModel(o: Options) {
  const { runner, adapter } = await createRunner(o);
  // the float64 products on one thread per core, as the CLI and the engine Worker run them (core/gemm-threads.ts)
  useNodeGemmThreads();
  const api: StudioApi = createStudioApi({
    runner,
    demoUrl: '',
    openDir: dirSource,
    gramStore: fileGramStore,
    collectGarbage,
    ...(o.inProcess ? { isolateSessions: 'never' } : {}),
    ...(o.gramsInRam ? { gramStorage: 'never' } : {}),
  });
  const written = JSON.parse(readFileSync(join(o.dir, 'scale-model.json'), 'utf8')) as { parameters: number; fileBytes: number };
  const fp32Bytes = written.parameters * 4;
  const baselineRssMb = round(process.memoryUsage().rss / MB);
  const want = (s: Step) => o.steps.includes(s);
  const steps: StepRecord[] = [];
  let haveHessians = false;
  let haveObs = false;
  let applied = false;
  const perplexity = (target: 'dense' | 'pruned') => ({
    text: EVAL_TEXT,
    textName: 'evaluation.txt',
    contextLength: 128,
    stride: 64,
    maxTokens: o.tokens,
    target,
  });
  // Loading is needed by everything; without the step it is done unmeasured.
  const load = async () => {
    const s = await api.loadModel({ kind: 'dir', path: o.dir });
    if (o.backend === 'node-webgpu' && s.backend.name !== 'webgpu')
      throw new Error(`node-webgpu: the model opened on ${s.backend.name}, not webgpu`);
    return { parameters: s.parameters, weightBytes: s.weightBytes, backend: s.backend, weightStore: s.weightStore ?? 'none (in memory)' };
  };
  if (want('load')) steps.push(await measure('load', fp32Bytes, load));
  else await load();
  if (want('perplexity')) {
    steps.push(
      await measure('perplexity', fp32Bytes, async () => {
        const r = await api.evaluatePerplexity(perplexity('dense'));
        return { perplexity: r.perplexity, protocol: r.protocol };
      }),
    );
  }
  if (want('latency')) {
    steps.push(
      await measure('latency', fp32Bytes, async () => {
        const r = await api.measureLatency({ batch: 1, seq: 128, runs: o.runs, warmup: 3 });
        return { medianMs: r.medianMs, p10Ms: r.p10Ms, p90Ms: r.p90Ms, request: r.request };
      }),
    );
  }
  if (want('generate')) {
    steps.push(
      await measure('generate', fp32Bytes, async () => {
        // greedy, KV cache: the first call opens the with-past session, the second measures steady decoding
        const request = {
          prompt: 'The history of the city begins',
          maxNewTokens: 32,
          temperature: 0,
          topK: 0,
          seed: 1,
          target: 'dense' as const,
        };
        const first = await api.generate(request);
        const steady = await api.generate(request);
        const rate = (r: { newTokens: number; ms: number }) => ({
          ms: round(r.ms),
          tokensPerSecond: round((r.newTokens * 1000) / r.ms, 1),
        });
        return { newTokens: steady.newTokens, first: rate(first), steady: rate(steady), request };
      }),
    );
  }
  if (want('calibrate')) {
    steps.push(
      await measure('calibrate', fp32Bytes, async () => {
        const r = await api.calibrate({
          text: CALIB_TEXT,
          textName: 'calibration.txt',
          samples: o.samples,
          seq: o.seq,
          withHessians: true,
        });
        haveHessians = true;
        return {
          samples: r.samples,
          seq: r.seq,
          tokens: r.tokens,
          baseLoss: r.baseLoss,
          withHessians: r.withHessians,
          grams: o.gramsInRam ? 'memory' : 'storage (temp file)',
          ...(r.warnings ? { warnings: r.warnings } : {}),
        };
      }),
    );
  }
  if (want('obs') && haveHessians) {
    steps.push(
      await measure('obs', fp32Bytes, async () => {
        const s = await api.computeImportance('obs');
        haveObs = true;
        return { criterion: s.criterion, layers: s.numLayers };
      }),
    );
  }
  if (want('criteria')) {
    for (const criterion of o.criteria ?? OTHER_CRITERIA) {
      steps.push(
        await measure(`criterion:${criterion}`, fp32Bytes, async () => {
          try {
            const s = await api.computeImportance(criterion);
            return { criterion: s.criterion, layers: s.numLayers };
          } catch (e) {
            return { criterion, error: e instanceof Error ? e.message : String(e) };
          }
        }),
      );
    }
  }
  if (want('preview')) {
    steps.push(
      await measure('preview', fp32Bytes, async () => {
        // the live preview of a 50% plan: masks on the dense model, the same protocol as the dense perplexity
        const criterion = haveObs ? 'obs' : 'magnitude';
        if (!haveObs) await api.computeImportance('magnitude');
        const plan = await api.allocatePlan({ criterion, allocation: 'uniform', heads: 0.5, ffn: 0.5, layers: 0 });
        const r = await api.previewPlan({ plan, perplexity: perplexity('dense') });
        return { criterion, ratio: 0.5, perplexity: r.perplexity, protocol: r.protocol };
      }),
    );
  }
  if (want('apply')) {
    steps.push(
      await measure('apply', fp32Bytes, async () => {
        const criterion = haveObs ? 'obs' : 'magnitude';
        if (!haveObs) await api.computeImportance('magnitude');
        const compensation = haveHessians ? 'obs' : 'none';
        const plan = await api.allocatePlan({ criterion, allocation: 'uniform', heads: 0.5, ffn: 0.5, layers: 0 });
        const a = await api.applyPlan({ plan, compensation });
        applied = true;
        return { criterion, compensation, ratio: 0.5, parameters: a.parameters, denseParameters: a.denseCost.parameters };
      }),
    );
  }
  if (want('export')) {
    steps.push(
      await measure('export', fp32Bytes, async () => {
        if (!applied) return { what: 'dense model.onnx (no applied plan)', bytes: (await api.exportOnnx()).length };
        const bundle = await api.exportModel();
        return {
          what: 'pruned bundle, verified',
          files: bundle.files.map((f) => ({ name: f.name, bytes: f.bytes.length })),
          verification: bundle.verification,
        };
      }),
    );
  }
  if (want('slimgpt') && haveHessians) {
    steps.push(
      await measure('slimgpt', fp32Bytes, async () => {
        const t0 = performance.now();
        let layersMs = 0;
        const r = await api.slimGptPrune(
          { heads: 0.5, ffn: 0.5, allocation: 'uniform', perplexity: { ...perplexity('pruned'), maxTokens: o.slimgptTokens ?? o.tokens } },
          { onLayer: () => (layersMs = performance.now() - t0) },
        );
        return {
          ratio: 0.5,
          allocation: 'uniform',
          layersMs: round(layersMs),
          perplexity: r.perplexity.perplexity,
          perplexityTokens: r.perplexity.protocol.tokensScored,
          parameters: r.applied.parameters,
        };
      }),
    );
  }
  const peak = Math.max(...steps.map((s) => s.peakRssMb), baselineRssMb);
  return {
    model: o.model,
    backend: o.backend,
    ...(adapter ? { adapter } : {}),
    parameters: written.parameters,
    fp32WeightBytes: fp32Bytes,
    fileBytes: statSync(join(o.dir, 'model.safetensors')).size,
    baselineRssMb,
    peakRssMb: peak,
    peakOverFp32: round((peak * MB) / fp32Bytes, 2),
    steps,
    skipped: STEPS.filter((s) => !steps.some((r) => r.step === s)),
  };
}

function list<T extends string>(value: string | undefined, known: readonly T[], what: string): T[] {
  if (!value) return [...known];
  const items = value.split(',').filter(Boolean);
  for (const x of items) if (!known.includes(x as T)) throw new Error(`Unknown ${what} "${x}"; known: ${known.join(', ')}.`);
  return items as T[];
}

/** `npm run bench -- --only scale ...`: each model (generated if absent) in a child process, per backend. */
export async function runScaleBench(args: string[]): Promise<void> {
  const models = list(flag(args, 'models'), MODEL_NAMES, 'model');
  const steps = list(flag(args, 'steps'), STEPS, 'step');
  const dawn = flag(args, 'webgpu');
  const backends: Backend[] = dawn ? ['node-webgpu'] : ['node-wasm', ...(args.includes('--cpu') ? (['node-cpu'] as const) : [])];
  const settings = {
    tokens: Number(flag(args, 'tokens') ?? 8192),
    samples: Number(flag(args, 'samples') ?? 16),
    seq: Number(flag(args, 'seq') ?? 128),
    runs: Number(flag(args, 'runs') ?? 10),
    ...(flag(args, 'slimgpt-tokens') ? { slimgptTokens: Number(flag(args, 'slimgpt-tokens')) } : {}),
    ...(flag(args, 'threads') ? { threads: Number(flag(args, 'threads')) } : {}),
    ...(args.includes('--in-process') ? { inProcess: true } : {}),
    ...(args.includes('--grams-in-ram') ? { gramsInRam: true } : {}),
    ...(flag(args, 'criteria') ? { criteria: list(flag(args, 'criteria'), OTHER_CRITERIA, 'criterion') } : {}),
    ...(flag(args, 'suffix') ? { suffix: flag(args, 'suffix') } : {}),
    ...(dawn ? { dawn, softwareGpu: args.includes('--software-gpu') } : {}),
    ...(flag(args, 'wasm-paths') ? { wasmPaths: flag(args, 'wasm-paths') } : {}),
  };
  const tmp = mkdtempSync(join(tmpdir(), 'scale-bench-'));
  for (const backend of backends) {
    const results: unknown[] = [];
    for (const model of models) {
      const { dir } = ensureModel(model);
      const options: Options = { model, dir, backend, steps, ...settings };
      const out = join(tmp, `${backend}-${model}.json`);
      console.log(`scale ${backend} ${model} (${steps.join(', ')})`);
      const r = spawnSync(process.execPath, ['--expose-gc', ...childEntry(backend), '--child', JSON.stringify(options), out], {
        stdio: 'inherit',
        // glibc's mmap threshold fixed, as the CLI's launcher runs the engine (src/cli/launch.mjs)
        env: { MALLOC_MMAP_THRESHOLD_: String(128 * 1024), ...process.env },
      });
      results.push(
        (r.status === 0 || (backend === 'node-webgpu' && r.signal === 'SIGKILL')) && existsSync(out)
          ? JSON.parse(readFileSync(out, 'utf8'))
          : { model, backend, error: `child exited ${r.status ?? r.signal}` },
      );
    }
    const name = `scale-${backend}${settings.inProcess ? '-in-process' : ''}${settings.gramsInRam ? '-grams-in-ram' : ''}${settings.suffix ? `-${settings.suffix}` : ''}`;
    const runSettings = { ...settings, steps };
    const measured = results.map((r) => ({ ...(r as object), settings: runSettings }));
    console.log('wrote', writeResult(name, { settings: runSettings, models: [...earlierModels(name, models), ...measured] }));
  }
}

/** How the child starts: this bench from source through tsx, or the bundled script that is running (bench/device-webgpu.sh). */
function childEntry(backend: Backend): string[] {
  const script = process.argv[1] ?? '';
  if (script.endsWith('scale.mjs')) return [script];
  const browserBuild = backend === 'node-webgpu' ? ['--import', './bench/ort-web-browser-build.mjs'] : [];
  return ['--import', 'tsx', ...browserBuild, 'bench/scale.ts'];
}

/**
 * The other models' records of an earlier run of the same file, each with the settings it ran under,
 * so a run of one model shape does not drop the others' numbers.
 */
function earlierModels(name: string, models: readonly string[]): unknown[] {
  const path = join('bench/results', `${name}.json`);
  if (!existsSync(path)) return [];
  const earlier = JSON.parse(readFileSync(path, 'utf8')) as { settings?: unknown; models?: { model?: string; settings?: unknown }[] };
  return (earlier.models ?? [])
    .filter((m) => !models.includes(m.model ?? ''))
    .map((m) => ({ ...m, settings: m.settings ?? earlier.settings }));
}

/** Exits; with Dawn in the process (node-webgpu) by SIGKILL, since its teardown took ~40 s on SwiftShader (output is written: pipes and files are synchronous here). */
function exitNow(backend: Backend): void {
  if (backend === 'node-webgpu') process.kill(process.pid, 'SIGKILL');
  process.exit(0);
}

async function child(args: string[]): Promise<void> {
  const options = JSON.parse(args[args.indexOf('--child') + 1]!) as Options;
  const out = args[args.indexOf('--child') + 2]!;
  writeFileSync(out, JSON.stringify(await runModel(options)));
  exitNow(options.backend);
}

// Run directly (the child, or the bundled bench that bench/device-webgpu.sh carries to a GPU machine).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  (process.argv.includes('--child') ? child(process.argv) : runScaleBench(process.argv.slice(2))).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
