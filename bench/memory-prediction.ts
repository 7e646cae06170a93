/**
 * How well the memory preflight predicts (issue 11, item 5): the memory model (core/memory-model.ts)
 * replayed over the steps the scale benches measured, in their order, as the engine's own checks
 * see them (api/memory.ts checkStep: each step next after the ones run, carrying the wasm heap they
 * left), against each step's measured peak — Node RSS (bench/results/scale-node-wasm.json) and
 * Chromium Pss over the empty page (scale-chromium-wasm.json). Shapes come from tools/scale-models
 * (config.json as transformers writes it), so a model shape measured on another machine replays too.
 *   node --import tsx bench/memory-prediction.ts   (or npm run bench -- --only memory-prediction)
 * Writes bench/results/memory-prediction.json: per host, model and step the predicted and measured MB
 * and measured / predicted (above 1: the preflight under-predicted).
 * Steps and the phase each is checked as: load, perplexity, latency and generate (generation: a
 * whole-model session), calibrate (calibration), obs, apply and slimgpt (pruning: a projection's
 * Hessian expanded, the pruned copy once there is one), export (the pruned copy, the exported bytes
 * and their verification).
 */
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { shapeFromConfig } from '../src/arch/config';
import { DEFAULT_MEMORY_CONSTANTS, type MemoryConstants } from '../src/core/memory-constants';
import { estimateMemory, type MemoryPhase, type MemorySettings } from '../src/core/memory-model';
import { hfConfig, shapeOf } from '../tools/scale-models/shapes';
import { writeResult } from './common';

const MB = 2 ** 20;
const PERPLEXITY = { contextLength: 128, batchSize: 8 };
const CALIBRATION = { samples: 16, seq: 128, withHessians: true };
/** The generate step's prompt (7 tokens) and 32 new ones; latency's 1 x 128 tokens. */
const GENERATE_TOKENS = 40;
const LATENCY_TOKENS = 128;

interface MeasuredStep {
  step: string;
  status?: string;
  peakRssMb?: number;
  peakPssMb?: number;
  detail?: { parameters?: number; denseParameters?: number };
}
interface MeasuredModel {
  model: string;
  engine?: string;
  steps?: MeasuredStep[];
  parameters?: number;
}

const PHASE_OF: Record<string, MemoryPhase> = {
  load: 'load',
  perplexity: 'perplexity',
  latency: 'generation',
  generate: 'generation',
  calibrate: 'calibration',
  obs: 'pruning',
  apply: 'pruning',
  export: 'export',
  slimgpt: 'pruning',
};

/** The request a step's check makes, given what ran before it. */
function stepSettings(step: string, calibrated: boolean, prunedFraction: number | undefined): MemorySettings {
  return {
    perplexity: PERPLEXITY,
    ...(step === 'latency' ? { generation: { tokens: LATENCY_TOKENS } } : {}),
    ...(step === 'generate' ? { generation: { tokens: GENERATE_TOKENS } } : {}),
    ...(step === 'calibrate' || (calibrated && ['pruning', 'export'].includes(PHASE_OF[step]!)) ? { calibration: CALIBRATION } : {}),
    // OBS scores come before any pruned copy exists (all pruned: no copy)
    ...(step === 'obs' ? { prunedFraction: 1 } : prunedFraction !== undefined ? { prunedFraction } : {}),
  };
}

/** The model replayed over one measured run: each step's predicted peak next to its measured one. */
export function replay(model: MeasuredModel, constants: MemoryConstants, measured: (s: MeasuredStep) => number | undefined) {
  const shape = { ...shapeFromConfig(hfConfig(shapeOf(model.model))), filesHeldWhole: false };
  const parameters = estimateMemory(shape, { perplexity: PERPLEXITY }).parameters;
  let heap = 0;
  let calibrated = false;
  let prunedFraction: number | undefined;
  const rows = [];
  for (const s of model.steps ?? []) {
    const phase = PHASE_OF[s.step];
    const mb = measured(s);
    if (!phase || mb === undefined || s.status === 'error' || s.status === 'crash') continue;
    // apply and SlimGPT report the pruned model's parameters; the one applied before stays until theirs replaces it
    const makesPruned = s.step === 'apply' || s.step === 'slimgpt';
    const held = makesPruned ? prunedFraction : undefined;
    if (makesPruned && s.detail?.parameters) prunedFraction = 1 - s.detail.parameters / (s.detail.denseParameters ?? parameters);
    const settings = {
      ...stepSettings(s.step, calibrated, prunedFraction),
      ...(held !== undefined ? { heldPrunedFraction: held } : {}),
      heapCarried: heap,
      nextStep: true,
    };
    const p = estimateMemory(shape, settings, constants).phases.find((x) => x.phase === phase)!;
    heap = Math.max(heap, p.heapBytes);
    if (s.step === 'calibrate') calibrated = true;
    const predictedMb = Math.round(p.bytes / MB);
    rows.push({ step: s.step, phase, predictedMb, measuredMb: mb, measuredOverPredicted: Math.round((mb / predictedMb) * 100) / 100 });
  }
  return rows;
}

function hostRows(file: string, constants: MemoryConstants, measured: (s: MeasuredStep) => number | undefined) {
  if (!existsSync(file)) return [];
  const result = JSON.parse(readFileSync(file, 'utf8')) as { models: MeasuredModel[] };
  // the app's runs only (not the page-engine rows measured without the preflight)
  const app = result.models.filter((m) => m.steps?.length && !m.engine?.startsWith('bench/scale-page-engine'));
  return app.map((m) => ({ model: m.model, steps: replay(m, constants, measured) }));
}

export function runMemoryPrediction(): void {
  const gramStore = { ...DEFAULT_MEMORY_CONSTANTS, gramStore: true };
  const hosts = [
    {
      host: 'node-wasm',
      measured: 'peak RSS (MB)',
      // the CLI and the bench: Grams in a temp file, whole-model sessions in a disposable worker
      models: hostRows('bench/results/scale-node-wasm.json', { ...gramStore, isolatedSessions: true }, (s) => s.peakRssMb),
    },
    {
      host: 'chromium-wasm',
      measured: 'peak Pss of all Chromium processes over the empty page (MB)',
      // the app's Worker: Grams in OPFS, every session in its own wasm heap
      models: hostRows('bench/results/scale-chromium-wasm.json', gramStore, (s) => s.peakPssMb),
    },
  ];
  for (const h of hosts)
    for (const m of h.models)
      console.log(
        `${h.host} ${m.model}: ${m.steps.map((s) => `${s.step} ${s.predictedMb}/${s.measuredMb} (${s.measuredOverPredicted})`).join(', ')}`,
      );
  const all = hosts.flatMap((h) => h.models.flatMap((m) => m.steps.map((s) => s.measuredOverPredicted)));
  const summary = { steps: all.length, maxMeasuredOverPredicted: Math.max(...all), minMeasuredOverPredicted: Math.min(...all) };
  console.log('wrote', writeResult('memory-prediction', { summary, hosts }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) runMemoryPrediction();
