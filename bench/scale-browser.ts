/**
 * Chromium scale benchmark (issue 11, items 2 to 5): the steps of bench/scale.ts — load, dense
 * perplexity (8,192 tokens), latency, greedy generation with the KV cache (tokens/s), calibration
 * 16 x 128 with Hessians, OBS criterion, apply with OBS at 50%, verified export, SlimGPT at 50% (heads +
 * FFN, uniform, ending with the pruned model's perplexity over the same 8,192 tokens), and last calibration
 * cancelled at 2 / 5 / 8 s (time to stop) — on a size-faithful model (tools/scale-models) in the built app
 * (dist/) in Debian Chromium, through the automation hook `window.__pruneStudio.run` and the real
 * Worker (onnxruntime-web WASM). The model is loaded as a user's folder pick: the folder is set on a
 * webkitdirectory <input> (Playwright hands Chromium the local paths, no copy) and its File objects
 * go to loadModel({ kind: 'files' }), exactly what the app's "Pick folder" does.
 * Per step: wall ms, CPU seconds of all Chromium processes (/proc utime + stime), and the peak of all
 * Chromium processes' memory sampled every 200 ms (Pss from smaps_rollup, primary; RSS beside it),
 * minus the same sum on an empty page (about:blank), over the model's float32 weight bytes (target
 * <= 2.5). A step over the per-step limit is cancelled (the hook's cancel()); after perplexity or
 * latency the run goes on, after any other step, a failed step or a crashed tab it ends; what
 * finished and the memory when it stopped are recorded.
 *   node --import tsx bench/scale-browser.ts [--models gpt2-124m,qwen2.5-0.5b] [--steps load,...]
 *     [--step-limit-min 15] [--no-budget]   (or npm run bench -- --only scale --part chromium ...)
 * --no-budget runs the engine in the page without the host's memory budget (bench/scale-page-engine.ts),
 * to measure a model the app's preflight refuses; its rows are kept apart from the app's. Re-running
 * some steps of a model replaces only those steps in its row.
 * Needs `npx vite build` and the models (npm run scale-models -- --models <name>).
 * Writes bench/results/scale-chromium-wasm.json (models of earlier runs not re-run here are kept).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from '@playwright/test';
import { engineHarnessBundle } from '../e2e/harness/bundle';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/harness/chromium';
import { createStudioApi } from '../src/api/studio';
import { dirSource } from '../src/cli/dir-source';
import { fileGramStore } from '../src/cli/gram-file-store';
import { createWebRunner } from '../src/runtime/ort-web';
import { DEFAULT_ROOT } from '../tools/scale-models/write';
import { MemorySampler, cpuSeconds, largestMappings, type MemoryReading } from './chromium-procs';
import { browserMemoryBudget } from '../src/io/memory-budget';
import { CALIB_TEXT, EVAL_TEXT, flag, readResult, writeResult } from './common';

const PORT = Number(process.env.SCALE_BROWSER_PORT ?? 4397);
const MB = 2 ** 20;
// cancel runs last: its aborted calibrations would otherwise weigh on the later steps' cumulative memory
const STEPS = ['load', 'perplexity', 'latency', 'generate', 'calibrate', 'obs', 'apply', 'export', 'slimgpt', 'cancel'] as const;
type Step = (typeof STEPS)[number];
const INDEPENDENT: readonly Step[] = ['perplexity', 'latency', 'generate', 'cancel'];

/** Greedy dense generation of the compare-text card (KV cache): tokens per second in the Worker. */
const GENERATE = { prompt: 'The history of the city begins', maxNewTokens: 32, temperature: 0, topK: 0, seed: 1, target: 'dense' };
/** Calibration (the bench's settings) cancelled this many ms after it starts, once each: the UI's Cancel. */
const CANCEL_AFTER_MS = [2000, 5000, 8000];

/**
 * Steps whose memory timeline (Pss every 200 ms beside the engine's progress reports) is printed:
 * SCALE_TRACE=export,slimgpt; SCALE_TRACE_MAPS=1 adds each sample's largest mappings (Pss/size MB).
 */
const TRACED = new Set((process.env.SCALE_TRACE ?? '').split(',').filter(Boolean));

const SETTINGS = { tokens: 8192, contextLength: 128, stride: 64, samples: 16, seq: 128, runs: 10, warmup: 3, ratio: 0.5 };

interface StepRecord {
  step: Step;
  status: 'ok' | 'error' | 'timeout' | 'crash';
  wallMs: number;
  cpuSeconds: number;
  /** Peak over the step of the Pss summed over the Chromium processes, minus the empty page's. */
  peakPssMb: number;
  peakRssMb: number;
  /** The largest single process (the renderer hosting the Worker and its wasm heap). */
  peakTopProcessRssMb: number;
  pssAfterMb: number;
  peakOverFp32: number;
  loadAverage: { before: number; after: number };
  measuredAt: string;
  detail?: unknown;
  error?: string;
}

const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;

/**
 * Runs one hook method in the page; the value is reduced there to small JSON (byte arrays become
 * their length), so a 500 MB export never crosses into Node.
 */
async function call(page: Page, method: string, args: unknown[]): Promise<unknown> {
  return page.evaluate(
    async ({ method, args }) => {
      const w = window as unknown as {
        __pruneStudio: { run(m: string, a: unknown[]): Promise<unknown> };
        __benchFiles?: unknown;
      };
      // '$files' stands for the picked folder's LocalFile list (kept in the page)
      const fill = (a: unknown): unknown =>
        a === '$files'
          ? w.__benchFiles
          : a && typeof a === 'object' && !Array.isArray(a)
            ? Object.fromEntries(Object.entries(a as Record<string, unknown>).map(([k, v]) => [k, fill(v)]))
            : a;
      const resolved = args.map(fill);
      const handOff = new Set<ArrayBuffer>();
      const small = (v: unknown, depth: number): unknown => {
        if (ArrayBuffer.isView(v)) {
          const bytes = v.byteLength;
          if (v.buffer instanceof ArrayBuffer && bytes > 1 << 20) handOff.add(v.buffer);
          return { bytes };
        }
        if (v instanceof ArrayBuffer) return { bytes: v.byteLength };
        // a file in browser storage (a streamed export's model file): its size, never read here
        if (v instanceof Blob) return { bytes: v.size, storage: true };
        if (Array.isArray(v)) return v.length > 64 ? { length: v.length } : v.map((x) => small(x, depth + 1));
        if (v && typeof v === 'object') {
          if (depth > 4) return '…';
          return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, small(x, depth + 1)]));
        }
        return v;
      };
      const reduced = small(await w.__pruneStudio.run(method, resolved), 0);
      // the page lets the bytes go as the UI does (ui/zip.ts): moved to a short-lived worker that is
      // terminated once it has them, so they are freed now; a detached (transfer(0)) or dropped buffer
      // waits for the page's next garbage collection (measured: a 313 MB export stayed until then),
      // which an idle page may not have for minutes, weighing on every later step
      if (handOff.size > 0) {
        const sink = new Worker(URL.createObjectURL(new Blob(['onmessage = () => postMessage(0);'], { type: 'text/javascript' })));
        // terminated once it holds them (a message still queued is kept until the page collects the Worker object)
        await new Promise((resolve) => {
          sink.onmessage = resolve;
          sink.postMessage(null, [...handOff]);
        });
        sink.terminate();
      }
      return reduced;
    },
    { method, args },
  );
}

/** The page's clock now; starts the page's progress log unless a trace already did (main.tsx appends every report). */
async function progressMark(page: Page): Promise<number> {
  return page.evaluate(() => {
    const w = window as unknown as { __pruneStudioProgress?: unknown[]; __benchOwnsProgress?: boolean };
    if (!w.__pruneStudioProgress) {
      w.__pruneStudioProgress = [];
      w.__benchOwnsProgress = true;
    }
    return performance.now();
  });
}

/** Milliseconds from `since` (page clock) to the first progress report with `message`; undefined if none came. */
async function msUntil(page: Page, since: number, message: string): Promise<number | undefined> {
  const at = await page.evaluate(
    ({ since, message }) => {
      const w = window as unknown as { __pruneStudioProgress?: { t: number; message?: string }[]; __benchOwnsProgress?: boolean };
      const hit = (w.__pruneStudioProgress ?? []).find((p) => p.t >= since && p.message === message);
      if (w.__benchOwnsProgress) {
        delete w.__pruneStudioProgress;
        delete w.__benchOwnsProgress;
      }
      return hit ? hit.t - since : undefined;
    },
    { since, message },
  );
  return at === undefined ? undefined : round(at);
}

/** Puts the model folder on a hidden webkitdirectory input and keeps its files as the page's LocalFile list. */
async function pickFolder(page: Page, dir: string): Promise<number> {
  await page.evaluate(() => {
    const input = document.createElement('input');
    input.type = 'file';
    input.id = 'bench-files';
    input.multiple = true;
    input.setAttribute('webkitdirectory', '');
    input.style.display = 'none';
    document.body.append(input);
  });
  await page.setInputFiles('#bench-files', dir);
  return page.evaluate(() => {
    const input = document.getElementById('bench-files') as HTMLInputElement;
    const files = [...(input.files ?? [])].map((f) => ({ path: f.webkitRelativePath || f.name, file: f }));
    (window as unknown as { __benchFiles: unknown }).__benchFiles = files;
    return files.length;
  });
}

/** The steps, in order; each returns its detail. Later steps depend on the earlier ones. */
function stepBodies(page: Page): Record<Step, () => Promise<unknown>> {
  const perplexity = { text: EVAL_TEXT, textName: 'evaluation.txt', contextLength: 128, stride: 64, maxTokens: SETTINGS.tokens };
  return {
    load: () => call(page, 'loadModel', [{ kind: 'files', files: '$files' }]),
    perplexity: () => call(page, 'evaluatePerplexity', [{ ...perplexity, target: 'dense' }]),
    latency: () => call(page, 'measureLatency', [{ batch: 1, seq: 128, runs: SETTINGS.runs, warmup: SETTINGS.warmup }]),
    calibrate: () =>
      call(page, 'calibrate', [
        { text: CALIB_TEXT, textName: 'calibration.txt', samples: SETTINGS.samples, seq: SETTINGS.seq, withHessians: true },
      ]),
    obs: async () => {
      const s = (await call(page, 'computeImportance', ['obs'])) as { criterion: string; numLayers: number };
      return { criterion: s.criterion, layers: s.numLayers };
    },
    apply: () =>
      // allocate and apply in one page call: the plan stays in the page
      page.evaluate(async (ratio) => {
        const hook = (window as unknown as { __pruneStudio: { run(m: string, a: unknown[]): Promise<unknown> } }).__pruneStudio;
        const plan = await hook.run('allocatePlan', [{ criterion: 'obs', allocation: 'uniform', heads: ratio, ffn: ratio, layers: 0 }]);
        const a = (await hook.run('applyPlan', [{ plan, compensation: 'obs' }])) as {
          parameters: number;
          denseCost: { parameters: number };
        };
        return { criterion: 'obs', compensation: 'obs', ratio, parameters: a.parameters, denseParameters: a.denseCost.parameters };
      }, SETTINGS.ratio),
    generate: async () => {
      // the first call opens the with-past session; the second measures steady decoding
      const rate = (r: { newTokens: number; ms: number }) => ({ ms: round(r.ms), tokensPerSecond: round((r.newTokens * 1000) / r.ms, 1) });
      const first = (await call(page, 'generate', [GENERATE])) as { newTokens: number; ms: number; text: string };
      const steady = (await call(page, 'generate', [GENERATE])) as { newTokens: number; ms: number };
      return { newTokens: steady.newTokens, first: rate(first), steady: rate(steady), text: first.text.slice(0, 200), request: GENERATE };
    },
    cancel: () => cancelCalibration(page),
    export: () => call(page, 'exportModel', [{}]),
    slimgpt: async () => {
      const since = await progressMark(page);
      const r = (await call(page, 'slimGptPrune', [
        { heads: SETTINGS.ratio, ffn: SETTINGS.ratio, allocation: 'uniform', perplexity: { ...perplexity, target: 'pruned' } },
      ])) as { perplexity: { perplexity: number; protocol: { tokensScored: number } }; applied: { parameters: number } };
      return {
        ratio: SETTINGS.ratio,
        allocation: 'uniform',
        // the layer-wise pruning (sequential calibration included); the step goes on with the pruned model's perplexity
        layersMs: await msUntil(page, since, 'SlimGPT done'),
        perplexity: r.perplexity.perplexity,
        perplexityTokens: r.perplexity.protocol.tokensScored,
        parameters: r.applied.parameters,
      };
    },
  };
}

/**
 * Starts calibration through the hook, cancels it (the hook's cancel(): the UI's job abort, which
 * reaches the Worker through comlink and the shared cancel flag) after each delay, and records how
 * long the job took to stop (target: within 2 s).
 */
async function cancelCalibration(page: Page): Promise<unknown> {
  const request = { text: CALIB_TEXT, textName: 'calibration.txt', samples: SETTINGS.samples, seq: SETTINGS.seq, withHessians: true };
  const trials = [];
  for (const after of CANCEL_AFTER_MS) {
    trials.push(
      await page.evaluate(
        async ({ request, after }) => {
          const hook = (window as unknown as { __pruneStudio: { run(m: string, a: unknown[]): Promise<unknown>; cancel(): void } })
            .__pruneStudio;
          const job = hook.run('calibrate', [request]).then(
            () => 'finished',
            (e: unknown) => (e instanceof Error ? `${(e as { code?: string }).code ?? e.name}: ${e.message}` : String(e)),
          );
          await new Promise((r) => setTimeout(r, after));
          const t0 = performance.now();
          hook.cancel();
          const outcome = await job;
          return { cancelAfterMs: after, stoppedInMs: Math.round(performance.now() - t0), outcome: outcome.slice(0, 120) };
        },
        { request, after },
      ),
    );
  }
  return { trials, maxStoppedInMs: Math.max(...trials.map((t) => t.stoppedInMs)) };
}

function trimDetail(step: Step, v: unknown): unknown {
  if (step === 'load') {
    const s = v as { name: string; parameters: number; weightBytes: number; backend: unknown; weightStore?: string };
    return {
      name: s.name,
      parameters: s.parameters,
      weightBytes: s.weightBytes,
      backend: s.backend,
      weightStore: s.weightStore ?? 'none (in memory)',
    };
  }
  if (step === 'perplexity') {
    const r = v as { perplexity: number; protocol: unknown };
    return { perplexity: r.perplexity, protocol: r.protocol };
  }
  if (step === 'latency') {
    const r = v as { medianMs: number; p10Ms: number; p90Ms: number; request: unknown };
    return { medianMs: r.medianMs, p10Ms: r.p10Ms, p90Ms: r.p90Ms, request: r.request };
  }
  if (step === 'calibrate') {
    const r = v as { samples: number; seq: number; tokens: number; baseLoss: number; withHessians: boolean };
    return { samples: r.samples, seq: r.seq, tokens: r.tokens, baseLoss: r.baseLoss, withHessians: r.withHessians };
  }
  if (step === 'export') {
    type Listed = { name: string; bytes?: { bytes: number }; blob?: { bytes: number } }[] | { length: number };
    const b = v as { files: Listed; stored?: Listed; verification: unknown };
    const list = (files: Listed, where: string) =>
      Array.isArray(files) ? files.map((f) => ({ name: f.name, bytes: (f.bytes ?? f.blob)?.bytes, where })) : [files];
    return {
      what: 'pruned bundle, verified',
      files: [...list(b.stored ?? [], 'browser storage (OPFS), a Blob'), ...list(b.files, 'memory')],
      verification: b.verification,
    };
  }
  return v;
}

/** The bench stops its browser when the machine has less than this available (shared machine). */
const MIN_AVAILABLE = 1.5 * 2 ** 30;

function memAvailableBytes(): number {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : Infinity;
}

const ENGINE_APP = "the app's engine Worker through window.__pruneStudio (the host's memory budget applies)";
const ENGINE_NO_BUDGET =
  "bench/scale-page-engine.ts: the Worker's engine code on the page's main thread with no memory budget (the preflight's refusals off), to measure what the path really takes";

/** bench/scale-page-engine.ts bundled for injection (onnxruntime-web's wasm served by the app under /ort/). */
const pageEngineBundle = () => engineHarnessBundle('bench/scale-page-engine.ts');

/**
 * The engine's own memory prediction (StudioApi.estimateMemory, core/memory-model.ts) for the bench's
 * settings against an 8 GB browser's budget (the app's browserMemoryBudget), computed in Node from config.json: MB per phase
 * (total and wasm heap), and the preflight's verdict.
 */
async function predictedMemory(dir: string) {
  // what the app's Worker gets in a browser reporting navigator.deviceMemory = 8 (the cap)
  const budget = browserMemoryBudget({ deviceMemory: 8 });
  // gramStore: the Worker keeps a large model's Grams in OPFS (only its presence counts for the prediction)
  // isolate: false, as in a tab (a Node runner would offer disposable isolates: api/isolation.ts)
  const api = createStudioApi({
    runner: createWebRunner({ isolate: false }),
    demoUrl: '',
    openDir: dirSource,
    memoryBudget: () => budget,
    gramStore: fileGramStore,
  });
  const r = await api.estimateMemory({
    source: { kind: 'dir', path: dir },
    perplexity: { contextLength: SETTINGS.contextLength, batchSize: 8 },
    calibration: { samples: SETTINGS.samples, seq: SETTINGS.seq, withHessians: true },
    // the generate step: a 7-token prompt and 32 new tokens
    generation: { tokens: 7 + GENERATE.maxNewTokens },
  });
  return {
    phasesMb: Object.fromEntries(r.estimate.phases.map((p) => [p.phase, { total: round(p.bytes / MB), wasm: round(p.wasmBytes / MB) }])),
    peak: { phase: r.estimate.peak.phase, mb: round(r.estimate.peak.bytes / MB) },
    dominant: r.estimate.dominant.label,
    ...(r.problem ? { problem: r.problem } : {}),
    ...(r.fit ? { fit: r.fit } : {}),
  };
}

/** Starts a step's memory timeline; the page's clock offset from ours (the progress reports carry the page's). */
async function startTrace(page: Page, sampler: MemorySampler): Promise<{ t0: number; pageOffset: number }> {
  const t0 = performance.now();
  const pageNow = await page.evaluate(() => {
    (window as unknown as { __pruneStudioProgress: unknown[] }).__pruneStudioProgress = [];
    return performance.now();
  });
  sampler.series = [];
  sampler.withMappings = !!process.env.SCALE_TRACE_MAPS;
  return { t0, pageOffset: t0 - pageNow };
}

/** Prints the step's Pss timeline (over the empty page) merged with the engine's progress reports. */
async function printTrace(
  page: Page,
  sampler: MemorySampler,
  trace: { t0: number; pageOffset: number },
  emptyPss: number,
  exclude: readonly number[],
) {
  const progress = await page.evaluate(() => {
    const w = window as unknown as {
      __pruneStudioProgress?: { t: number; stage: string; done: number; total: number; message?: string }[];
    };
    const log = w.__pruneStudioProgress ?? [];
    delete w.__pruneStudioProgress;
    return log;
  });
  const lines = [
    ...(sampler.series ?? []).map((s) => ({
      t: s.t - trace.t0,
      text: `${round((s.pssBytes - emptyPss) / MB)} MB${s.maps ? `  [${s.maps}]` : ''}`,
    })),
    ...progress.map((p) => ({ t: p.t + trace.pageOffset - trace.t0, text: `[${p.stage} ${p.done}/${p.total}] ${p.message ?? ''}` })),
  ].sort((a, b) => a.t - b.t);
  sampler.series = undefined;
  for (const l of lines) console.log(`    ${(l.t / 1000).toFixed(1).padStart(7)} s  ${l.text}`);
  // the wasm heap is one mapping the size of its committed memory; a large ArrayBuffer is another
  const show = (m: { pssMb: number; sizeMb: number }[]) => m.map((x) => `${x.pssMb}/${x.sizeMb}`).join(', ');
  console.log(`    largest anonymous mappings (Pss MB / size MB): ${show(largestMappings(exclude))}`);
  if (process.env.SCALE_TRACE_GC) {
    // the engine Worker only: onnxruntime's thread workers sit in Atomics.wait and never answer
    const workers = page.workers().filter((w) => w.url().includes('studio.worker'));
    for (const w of workers) await w.evaluate('globalThis.gc?.()').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1000));
    console.log(`    after gc in ${workers.length} engine worker(s): ${show(largestMappings(exclude))}`);
    await page.evaluate('globalThis.gc?.()');
    await new Promise((r) => setTimeout(r, 1000));
    console.log(`    and then in the page: ${show(largestMappings(exclude))}`);
  }
}

async function settle(sampler: MemorySampler, ms = 3000): Promise<MemoryReading> {
  await new Promise((r) => setTimeout(r, ms));
  sampler.reset();
  await new Promise((r) => setTimeout(r, 1000));
  return sampler.sample();
}

/** One model in a fresh Chromium: empty page, the app (demo loaded), then the steps. */
async function runModel(model: string, steps: Step[], limitMs: number, exclude: number[], noBudget: boolean) {
  const dir = join(DEFAULT_ROOT, model);
  if (!existsSync(join(dir, 'scale-model.json'))) throw new Error(`${dir} is missing: npm run scale-models -- --models ${model}`);
  const written = JSON.parse(readFileSync(join(dir, 'scale-model.json'), 'utf8')) as { parameters: number; fileBytes: number };
  const fp32 = written.parameters * 4;
  // A persistent profile (a fresh temporary one), as a user's normal window: an incognito context
  // keeps origin-private storage (the calibration Grams' OPFS file, core/gram-store.ts) in memory.
  const profile = mkdtempSync(join(tmpdir(), 'scale-browser-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, ...(process.env.SCALE_TRACE_GC ? ['--js-flags=--expose-gc'] : [])],
    headless: true,
  });
  const sampler = new MemorySampler(exclude);
  const records: StepRecord[] = [];
  const guards: ReturnType<typeof setInterval>[] = [];
  let stopped: string | undefined;
  let predicted: unknown;
  try {
    const page = await context.newPage();
    await Promise.all(
      context
        .pages()
        .filter((p) => p !== page)
        .map((p) => p.close()),
    );
    let crashed = false;
    page.on('crash', () => (crashed = true));
    // a shared machine: give the memory back before the kernel's OOM killer picks someone else's process
    let starved: string | undefined;
    const guard = setInterval(() => {
      const available = memAvailableBytes();
      if (available >= MIN_AVAILABLE || starved) return;
      starved = `the machine's MemAvailable fell to ${round(available / MB)} MB with Chromium at ${round(sampler.last.pssBytes / MB)} MB Pss: browser closed by the bench`;
      void context.close().catch(() => undefined);
    }, 500);
    guards.push(guard);
    await page.goto('about:blank');
    const empty = await settle(sampler);
    await page.addInitScript('window.__name = (f) => f');
    await page.goto(`http://127.0.0.1:${PORT}/`);
    // the page loads the demo model and measures its baseline on its own: let that finish first
    await page.getByTestId('latency-median').filter({ hasText: /^\d/ }).waitFor({ timeout: 600_000 });
    if (noBudget) {
      await page.addScriptTag({ content: await pageEngineBundle(), type: 'module' });
      await page.waitForFunction(() => 'cancel' in ((window as unknown as { __pruneStudio: object }).__pruneStudio ?? {}));
    }
    const appIdle = await settle(sampler);
    const picked = await pickFolder(page, dir);
    predicted = await predictedMemory(dir);
    const bodies = stepBodies(page);
    console.log(`${model}: empty page ${round(empty.pssBytes / MB)} MB Pss, app idle ${round(appIdle.pssBytes / MB)} MB; ${picked} files`);
    sampler.start();
    for (const step of steps) {
      sampler.reset();
      const load0 = loadavg()[0]!;
      const cpu0 = cpuSeconds(exclude);
      const t0 = performance.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const limit = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), limitMs)));
      let status: StepRecord['status'] = 'ok';
      let detail: unknown;
      let error: string | undefined;
      const traced = TRACED.has(step) ? await startTrace(page, sampler) : undefined;
      try {
        const body = bodies[step]();
        const out = await Promise.race([body, limit]);
        if (out === 'timeout') {
          status = 'timeout';
          // cancel the job through the hook and let it wind down before the next step
          await page.evaluate(() => (window as unknown as { __pruneStudio: { cancel(): void } }).__pruneStudio.cancel());
          await Promise.race([body.catch(() => undefined), new Promise((r) => setTimeout(r, 120_000))]);
        } else detail = trimDetail(step, out);
      } catch (e) {
        status = crashed ? 'crash' : 'error';
        error = starved ?? (e as Error).message.split('\n')[0];
      } finally {
        clearTimeout(timer);
      }
      const wallMs = performance.now() - t0;
      if (traced) await printTrace(page, sampler, traced, empty.pssBytes, exclude);
      const cpu = cpuSeconds(exclude) - cpu0;
      const at = sampler.sample();
      const peak = sampler.peak;
      const record: StepRecord = {
        step,
        status,
        wallMs: round(wallMs),
        cpuSeconds: round(cpu, 1),
        peakPssMb: round((peak.pssBytes - empty.pssBytes) / MB),
        peakRssMb: round((peak.rssBytes - empty.rssBytes) / MB),
        peakTopProcessRssMb: round(peak.topRssBytes / MB),
        pssAfterMb: round((at.pssBytes - empty.pssBytes) / MB),
        peakOverFp32: round((peak.pssBytes - empty.pssBytes) / fp32, 2),
        loadAverage: { before: round(load0, 2), after: round(loadavg()[0]!, 2) },
        measuredAt: new Date().toISOString(),
        ...(detail !== undefined ? { detail } : {}),
        ...(error ? { error } : {}),
      };
      records.push(record);
      console.log(
        `  ${step}: ${status}, ${(wallMs / 1000).toFixed(1)} s wall, ${record.cpuSeconds} s cpu (Chromium), peak ${record.peakPssMb} MB Pss over the empty page (${record.peakOverFp32}x fp32 weights), largest process ${record.peakTopProcessRssMb} MB RSS${error ? `: ${error}` : ''}`,
      );
      if (status !== 'ok') {
        const why = `${step}: ${status}${error ? ` (${error})` : ` (over ${limitMs / 60_000} min, cancelled)`}`;
        stopped = stopped ? `${stopped}; ${why}` : why;
        // perplexity and latency feed no later step: after their time limit the run goes on
        if (!(status === 'timeout' && INDEPENDENT.includes(step))) break;
      }
    }
    sampler.stop();
    const ok = records.filter((r) => r.status === 'ok');
    const peakPss = Math.max(0, ...records.map((r) => r.peakPssMb));
    return {
      model,
      browser: `${execFileSync(CHROMIUM_PATH, ['--version']).toString().trim()} (persistent profile)`,
      engine: noBudget ? ENGINE_NO_BUDGET : ENGINE_APP,
      source: 'picked folder (webkitdirectory input, File objects) -> loadModel({ kind: "files" })',
      parameters: written.parameters,
      fp32WeightBytes: fp32,
      fileBytes: written.fileBytes,
      emptyPage: { pssMb: round(empty.pssBytes / MB), rssMb: round(empty.rssBytes / MB), processes: empty.processes },
      appIdle: { pssMb: round(appIdle.pssBytes / MB), rssMb: round(appIdle.rssBytes / MB), processes: appIdle.processes },
      predicted,
      peakPssMb: peakPss,
      peakOverFp32: round((peakPss * MB) / fp32, 2),
      completed: ok.map((r) => r.step),
      ...(stopped ? { stopped } : {}),
      steps: records,
    };
  } finally {
    sampler.stop();
    guards.forEach(clearInterval);
    await context.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  }
}

interface Row {
  model: string;
  engine?: string;
  fp32WeightBytes?: number;
  steps?: StepRecord[];
  [k: string]: unknown;
}

/**
 * A re-run of some steps (e.g. --steps load,perplexity) keeps the earlier run's other steps: its
 * records replace those steps only; the model's peak is recomputed over all of them.
 */
function mergeRows(old: Row, now: Row): Row {
  if (!old.steps || !now.steps || !now.fp32WeightBytes) return now;
  const redone = new Set(now.steps.map((s) => s.step));
  const steps = [...old.steps.filter((s) => !redone.has(s.step)), ...now.steps].sort(
    (a, b) => STEPS.indexOf(a.step) - STEPS.indexOf(b.step),
  );
  const peakPssMb = Math.max(0, ...steps.map((s) => s.peakPssMb));
  return {
    ...now,
    peakPssMb,
    peakOverFp32: round((peakPssMb * MB) / now.fp32WeightBytes, 2),
    completed: steps.filter((s) => s.status === 'ok').map((s) => s.step),
    steps,
  };
}

/** `--only scale --part chromium` / direct run: each model in its own Chromium; merges into the result file. */
export async function runScaleBrowserBench(args: string[]): Promise<void> {
  const models = (flag(args, 'models') ?? 'gpt2-124m').split(',').filter(Boolean);
  const steps = (flag(args, 'steps') ?? STEPS.join(',')).split(',').filter(Boolean) as Step[];
  for (const s of steps) if (!STEPS.includes(s)) throw new Error(`Unknown step "${s}"; known: ${STEPS.join(', ')}.`);
  const limitMs = Number(flag(args, 'step-limit-min') ?? 15) * 60_000;
  if (!existsSync('dist/index.html')) throw new Error('dist/ is missing: npx vite build');
  const server = spawn('node', ['tools/serve.mjs', 'dist', String(PORT)], { stdio: 'ignore' });
  const noBudget = args.includes('--no-budget');
  const engine = noBudget ? ENGINE_NO_BUDGET : ENGINE_APP;
  const results: unknown[] = [];
  try {
    for (const model of models) {
      console.log(`scale chromium ${model} (${steps.join(', ')})`);
      try {
        results.push(await runModel(model, steps, limitMs, [server.pid!], noBudget));
      } catch (e) {
        results.push({ model, engine, error: (e as Error).message.split('\n')[0] });
      }
    }
  } finally {
    server.kill();
  }
  // read at the end: another run may have written meanwhile
  const previous = (readResult('scale-chromium-wasm').models ?? []) as Row[];
  const same = (p: Row, r: Row) => p.model === r.model && p.engine === r.engine;
  const rows = results as Row[];
  const kept = previous.filter((p) => !rows.some((r) => same(p, r)));
  const merged = rows.map((r) => {
    const p = previous.find((x) => same(x, r));
    return p ? mergeRows(p, r) : r;
  });
  const path = writeResult('scale-chromium-wasm', {
    settings: { ...SETTINGS, steps, stepLimitMinutes: limitMs / 60_000, cores: availableParallelism() },
    memory: 'Pss (smaps_rollup) summed over all Chromium processes, sampled every 200 ms, minus the same sum on about:blank; RSS beside it',
    cpu: 'user + system CPU seconds of all Chromium processes (/proc), load-independent; onnxruntime-web runs 2 threads',
    models: [...kept, ...merged],
  });
  console.log('wrote', path);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runScaleBrowserBench(process.argv.slice(2));
}
