/** CLI `prune` and `apply`: the same api calls the UI makes, writing the export bundle to a folder. */
import { quantMethod } from '../api';
import { basename } from 'node:path';
import { InputError } from '../core/errors';
import { nvitGlobalPlan } from '../api/methods';
import type { StudioState } from '../api/state';
import {
  ALLOCATIONS,
  asCompensation,
  COMPENSATIONS,
  getCompensation,
  getCriterion,
  type Allocation,
  type AppliedModel,
  type Compensation,
  type CompensationOptions,
  type CriterionName,
  type PruningPlan,
  type StudioApi,
} from '../api';
import { numberFlag, stringFlag, type ParsedArgs } from './args';
import { exportRequest, writeBundle } from './bundle';
import { readJsonFile, readTextFile } from './files';
import { pruneImagesCommand } from './prune-images';

export const DEFAULT_CALIBRATION = 'public/data/calibration.txt';
export const DEFAULT_EVALUATION = 'public/data/evaluation.txt';

function compensationFlag(args: ParsedArgs): Compensation {
  const c = stringFlag(args, 'compensate', 'none') as Compensation;
  if (!COMPENSATIONS.includes(c)) throw new InputError(`--compensate must be one of ${COMPENSATIONS.join(', ')}, got "${c}".`);
  return c;
}

/** --quantize int4-gptq reads the calibration sequences (GPTQ's Hessians are collected on the pruned model). */
export function quantizeNeedsCalibration(args: ParsedArgs): boolean {
  const q = stringFlag(args, 'quantize', 'fp32');
  return q !== 'fp32' && quantMethod(q).needs.hessians;
}

export async function calibrateFromArgs(api: StudioApi, args: ParsedArgs, withHessians: boolean) {
  const calibPath = stringFlag(args, 'calib', DEFAULT_CALIBRATION);
  return api.calibrate({
    text: readTextFile(calibPath, 'calib'),
    textName: basename(calibPath),
    samples: numberFlag(args, 'samples', 16),
    seq: numberFlag(args, 'seq', 128),
    withHessians,
    ...textCap(args),
  });
}

/** --max-text-chars raises the cap on texts (api/text-guard.ts). */
export function textCap(args: ParsedArgs): { maxTextChars?: number } {
  return args.flags.has('max-text-chars') ? { maxTextChars: numberFlag(args, 'max-text-chars', 0) } : {};
}

/** Prints a result's text warnings on stderr (they stay in the JSON too). */
export function printWarnings(result: { warnings?: string[] }): void {
  for (const w of result.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
}

/** --text (default evaluation.txt), --max-tokens (default 8192), context 128, stride 64. */
export function perplexityRequest(args: ParsedArgs, maxTokens = 8192) {
  const evalPath = stringFlag(args, 'text', DEFAULT_EVALUATION);
  return {
    text: readTextFile(evalPath, 'text'),
    textName: basename(evalPath),
    contextLength: 128,
    stride: 64,
    maxTokens: numberFlag(args, 'max-tokens', maxTokens),
    ...textCap(args),
  };
}

export const DEFAULT_HELDOUT = 'public/data/heldout.txt';

/** --heldout (default heldout.txt; 'none' skips): dense and pruned perplexity on the held-out text, same protocol. */
export async function heldOutPerplexity(api: StudioApi, args: ParsedArgs, maxTokens = 8192) {
  const path = stringFlag(args, 'heldout', DEFAULT_HELDOUT);
  if (path === 'none') return undefined;
  const request = {
    ...perplexityRequest(args, maxTokens),
    text: readTextFile(path, 'heldout'),
    textName: basename(path),
    role: 'heldOut' as const,
  };
  const dense = await api.evaluatePerplexity(request);
  const pruned = await api.evaluatePerplexity({ ...request, target: 'pruned' });
  return { dense: dense.perplexity, pruned: pruned.perplexity, protocol: pruned.protocol };
}

/** --recover-steps N (default 0: none), --recover-lr: recovery training of the applied model (api.recover). */
export async function recoverFromArgs(api: StudioApi, args: ParsedArgs) {
  const steps = numberFlag(args, 'recover-steps', 0);
  if (!(steps > 0)) return undefined;
  const r = await api.recover(
    { steps, learningRate: numberFlag(args, 'recover-lr', 2e-4), perplexity: perplexityRequest(args) },
    { onProgress: (p) => process.stderr.write(`${p.message}\n`) },
  );
  return { training: r.applied.training, seconds: r.ms / 1000, curve: r.curve.map((p) => ({ step: p.step, loss: p.loss, kl: p.kl })) };
}

/** --redistribute-rank N, --redistribute-ridge x, --redistribute-intercept: options of --compensate redistribute. */
export function compensationOptions(args: ParsedArgs): CompensationOptions {
  return {
    ...(args.flags.has('redistribute-rank') ? { rank: numberFlag(args, 'redistribute-rank', 0) } : {}),
    ...(args.flags.has('redistribute-ridge') ? { ridge: numberFlag(args, 'redistribute-ridge', 0.01) } : {}),
    ...(args.flags.has('redistribute-intercept') ? { intercept: true } : {}),
  };
}

/** Applies, measures and writes the bundle; returns the JSON summary. */
async function applyMeasureExport(api: StudioApi, args: ParsedArgs, plan: PruningPlan, compensation: Compensation) {
  return measureAndExport(api, args, await api.applyPlan({ plan, compensation, compensationOptions: compensationOptions(args) }));
}

/** Perplexity dense and pruned, interleaved latency, the verified bundle written to --out; the JSON summary. */
export async function measureAndExport(api: StudioApi, args: ParsedArgs, applied: AppliedModel) {
  const format = exportRequest(args);
  const recovery = await recoverFromArgs(api, args);
  const request = perplexityRequest(args);
  const dense = await api.evaluatePerplexity(request);
  printWarnings(dense);
  const pruned = await api.evaluatePerplexity({ ...request, target: 'pruned' });
  const heldOut = await heldOutPerplexity(api, args);
  const latencyReq = { batch: 1, seq: 128, warmup: 3, runs: numberFlag(args, 'runs', 10) };
  const { dense: denseLatency, pruned: prunedLatency } = await api.compareLatency(latencyReq);
  const bundle = await writeBundle(api, stringFlag(args, 'out'), format);
  return {
    ...bundle,
    plan: applied.plan.name,
    compensation: applied.compensation,
    parameters: { dense: applied.denseCost.parameters, pruned: applied.parameters },
    flops: { dense: applied.denseCost.flops, pruned: applied.cost.flops },
    perplexity: {
      dense: dense.perplexity,
      pruned: pruned.perplexity,
      protocol: pruned.protocol,
      ...(dense.warnings ? { warnings: dense.warnings } : {}),
      ...(heldOut ? { heldOut } : {}),
    },
    ...(recovery ? { recoveryTraining: recovery } : {}),
    latencyMs: {
      dense: denseLatency.medianMs,
      pruned: prunedLatency.medianMs,
      speedup: denseLatency.medianMs / prunedLatency.medianMs,
      flopBoundSpeedup: applied.denseCost.flops / applied.cost.flops,
      backend: prunedLatency.backend,
    },
  };
}

export async function pruneCommand(api: StudioApi, args: ParsedArgs) {
  const criterion = getCriterion(stringFlag(args, 'criterion'));
  const compensation = compensationFlag(args);
  const allocation = stringFlag(args, 'allocation', 'uniform') as Allocation;
  if ((allocation as string) === NVIT_GLOBAL) return nvitGlobalCommand(api, args, criterion.name, compensation);
  if (!ALLOCATIONS.includes(allocation)) throw new InputError(`--allocation must be one of ${ALLOCATIONS.join(', ')}.`);
  const ratio = numberFlag(args, 'ratio', 0);
  const heads = numberFlag(args, 'heads', ratio);
  const ffn = numberFlag(args, 'ffn', ratio);
  const layers = numberFlag(args, 'layers', 0);
  const metric = stringFlag(args, 'target', 'units');
  if (!['units', 'parameters', 'flops'].includes(metric))
    throw new InputError(
      `--target must be units, parameters or flops, got "${metric}".`,
      '--target parameters --ratio 0.3 removes 30% of the parameters.',
    );
  for (const [name, v] of [
    ['heads', heads],
    ['ffn', ffn],
  ] as const) {
    if (v < 0 || v >= 1) throw new InputError(`--${name} must be a fraction in [0, 1), got ${v}.`);
  }
  if (args.flags.has('images'))
    return pruneImagesCommand(api, args, {
      allocation,
      heads,
      ffn,
      layers,
      compensation,
      ...(metric === 'units' ? {} : { target: { metric: metric as 'parameters' | 'flops', fraction: ratio } }),
    });
  const needs = getCompensation(compensation).needs;
  const needsStats = criterion.needs.stats || criterion.needs.maskedLoss || needs.calibration || quantizeNeedsCalibration(args);
  if (needsStats) await calibrateFromArgs(api, args, criterion.needs.gram || needs.hessians);
  const scores = await api.computeImportance(criterion.name as CriterionName);
  if (layers > 0 && !scores.layers) await api.computeImportance('block-influence');
  const plan = await api.allocatePlan({
    criterion: criterion.name,
    allocation,
    heads,
    ffn,
    layers,
    name:
      metric === 'units'
        ? `${criterion.name}-${allocation}-h${heads}-f${ffn}-l${layers}`
        : `${criterion.name}-${allocation}-${metric}${ratio}-l${layers}`,
    ...(metric === 'units' ? {} : { target: { metric: metric as 'parameters' | 'flops', fraction: ratio } }),
  });
  if (plan.derivation) plan.derivation.compensation = compensation;
  return applyMeasureExport(api, args, plan, compensation);
}

const NVIT_GLOBAL = 'nvit-global';

/** --allocation nvit-global: one ranking over heads, FFN neurons and hidden channels (criterion nvit) to a parameter / FLOP target. */
async function nvitGlobalCommand(api: StudioApi, args: ParsedArgs, criterion: string, compensation: Compensation) {
  const metric = stringFlag(args, 'target', 'flops');
  if (metric !== 'parameters' && metric !== 'flops')
    throw new InputError(`--allocation ${NVIT_GLOBAL} needs --target parameters or flops, got "${metric}".`);
  const needs = getCompensation(compensation).needs;
  await calibrateFromArgs(api, args, needs.hessians);
  const scores = await api.computeImportance(criterion as CriterionName);
  const fraction = numberFlag(args, 'ratio', 0);
  // The CLI's api is the in-process one (createStudioApi), which exposes its state.
  const ir = (api as Partial<{ state: StudioState }>).state?.loaded?.ir;
  if (!ir) throw new InputError(`--allocation ${NVIT_GLOBAL} needs the in-process studio with a loaded model.`);
  const plan = nvitGlobalPlan(ir, scores, { metric, fraction }, `${criterion}-${NVIT_GLOBAL}-${metric}${fraction}`);
  plan.derivation!.compensation = compensation;
  return applyMeasureExport(api, args, plan, compensation);
}

export async function applyCommand(api: StudioApi, args: ParsedArgs) {
  const plan = readJsonFile(stringFlag(args, 'plan'), 'plan', 'Pass --plan a plan.json saved by Prune Studio.') as PruningPlan;
  const compensation = args.flags.has('compensate') ? compensationFlag(args) : asCompensation(savedCompensation(plan));
  const needs = getCompensation(compensation).needs;
  if (needs.calibration || quantizeNeedsCalibration(args)) await calibrateFromArgs(api, args, needs.hessians);
  return applyMeasureExport(api, args, plan, compensation);
}

/** The compensation a plan file records, read defensively (the plan is validated by applyPlan). */
function savedCompensation(plan: unknown): string {
  const d = typeof plan === 'object' && plan !== null ? (plan as { derivation?: unknown }).derivation : undefined;
  const c = typeof d === 'object' && d !== null ? (d as { compensation?: unknown }).compensation : undefined;
  return typeof c === 'string' ? c : 'none';
}
