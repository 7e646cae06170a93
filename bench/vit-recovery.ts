/**
 * Benchmark: recovery training of the demo ViT (public/models/demo-vit) at 50% of FLOPs removed.
 * `npm run bench -- --only vit-recovery-select`: the steps / learning-rate grid on magnitude uniform +
 * OBS, scored on a validation split of the training images only (bench/results/vit-recovery-select-node.json).
 * `npm run bench -- --only vit-recovery`: the rows one-shot + OBS, then + recovery with the chosen
 * setting (RECOVERY below), top-1 on the 10,000 test images with the Wilson interval, the recovery
 * curve (training loss per step, validation accuracy every VALIDATE_EVERY steps), CPU and wall time
 * (bench/results/vit-recovery-node.json; `--vit-rows magnitude,taylor,nvit,nvit-global` picks rows).
 * `--only vit` appends the same rows to vit-node-wasm.json. Training never sees a test image: the
 * Fashion-MNIST training split (tools/vit/export_fashion_mnist.py --split train --count 10240):
 * images 0..8191 train (the first 256 also calibrate), 8192..10239 validate. Training runs in
 * onnxruntime-node (CPU), about 10x faster than WASM here; the accuracy is the same model's.
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { createStudioApi } from '../src/api/studio';
import type { RawImages, StudioApi } from '../src/api/types';
import { dirSource } from '../src/cli/dir-source';
import type { Runner } from '../src/core/runner';
import { firstImages, rawImagesFromImageSet } from '../src/io/image-set';
import { nvitGlobalPlan } from '../src/prune/nvit-allocate';
import type { CriterionName } from '../src/saliency/types';

const MODEL = 'public/models/demo-vit';
const TEST = 'tools/.cache/fashion-mnist/fashion-mnist-test-10000.json';
const TRAIN = 'tools/.cache/fashion-mnist/fashion-mnist-train-10240.json';
const TRAIN_SMALL = 'tools/.cache/fashion-mnist/fashion-mnist-train-1024.json';
const CALIB_IMAGES = 256;
const FLOPS_FRACTION = 0.5;
const VALIDATE_EVERY = 100;

/** Chosen by `--only vit-recovery-select` on the validation split (highest validation accuracy; see its JSON). */
export const RECOVERY = { steps: 1000, learningRate: 3e-4, batchSize: 64, lmWeight: 1, klWeight: 1 };
export const SELECTION_GRID = { steps: [400, 1000], learningRate: [3e-4, 1e-3] };

function readSet(path: string, name: string): RawImages {
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as { file: string };
  return rawImagesFromImageSet(manifest, new Uint8Array(readFileSync(join(dirname(path), manifest.file))), name);
}

function range(raw: RawImages, from: number, to: number, description: string): RawImages {
  const per = raw.height * raw.width * raw.sourceChannels;
  return {
    ...raw,
    pixels: raw.pixels.subarray(from * per, to * per),
    labels: Array.from(raw.labels).slice(from, to),
    count: to - from,
    description,
  };
}

/** Training / validation / calibration from the training split; the 10k test split for evaluation. */
function splits() {
  if (!existsSync(TEST)) throw new Error(`${TEST} is missing: /usr/bin/python3 tools/vit/export_fashion_mnist.py`);
  const big = existsSync(TRAIN);
  if (!big && !existsSync(TRAIN_SMALL))
    throw new Error(`${TRAIN} is missing: /usr/bin/python3 tools/vit/export_fashion_mnist.py --split train --count 10240`);
  const all = readSet(big ? TRAIN : TRAIN_SMALL, 'Fashion-MNIST train');
  const cut = big ? 8192 : 768;
  return {
    training: range(all, 0, cut, `Fashion-MNIST train 0..${cut - 1}`),
    validation: range(all, cut, all.count, `Fashion-MNIST train ${cut}..${all.count - 1} (validation)`),
    calibration: firstImages(all, CALIB_IMAGES),
    test: readSet(TEST, 'Fashion-MNIST test (10,000)'),
    protocol: {
      training: `${big ? TRAIN : TRAIN_SMALL}: images 0..${cut - 1}`,
      validation: `${big ? TRAIN : TRAIN_SMALL}: images ${cut}..${all.count - 1}`,
      calibration: `the first ${CALIB_IMAGES} training images`,
      evaluation: `${TEST} (the full test split; never trained on, nothing chosen on it)`,
    },
  };
}

export type VitRow = 'magnitude' | 'taylor' | 'nvit' | 'nvit-global';
const ROWS: Record<VitRow, { criterion: CriterionName; allocation: string }> = {
  magnitude: { criterion: 'magnitude', allocation: 'uniform' },
  taylor: { criterion: 'taylor', allocation: 'global' },
  nvit: { criterion: 'nvit' as CriterionName, allocation: 'global' },
  'nvit-global': { criterion: 'nvit' as CriterionName, allocation: 'nvit-global' },
};

const points = (x: number) => Math.round(x * 10000) / 100;
const cpuSeconds = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1e6;

async function setup(runner: Runner) {
  const api = createStudioApi({ runner, demoUrl: '', openDir: dirSource });
  await api.loadModel({ kind: 'dir', path: MODEL });
  const s = splits();
  const sets = {
    training: await api.prepareImages(s.training),
    validation: await api.prepareImages(s.validation),
    calibration: await api.prepareImages(s.calibration),
  };
  await api.calibrate({ text: '', textName: 'unused', samples: CALIB_IMAGES, seq: 0, withHessians: true, images: sets.calibration });
  return { api, s, sets };
}

/** Allocates the row's plan at 50% FLOPs and applies it with OBS. */
async function applyRow(api: StudioApi, row: VitRow) {
  const { criterion, allocation } = ROWS[row];
  const scores = await api.computeImportance(criterion);
  const ir = (api as unknown as { state: { loaded: { ir: Parameters<typeof nvitGlobalPlan>[0] } } }).state.loaded.ir;
  // the FLOP target at the ViT's own token count (1 + patches), like the cost the rows report
  const plan =
    allocation === 'nvit-global'
      ? nvitGlobalPlan(ir, scores, { metric: 'flops', fraction: FLOPS_FRACTION, seq: ir.spec.maxPositions })
      : await api.allocatePlan({
          criterion,
          allocation: allocation as 'uniform' | 'global',
          heads: 0,
          ffn: 0,
          layers: 0,
          target: { metric: 'flops', fraction: FLOPS_FRACTION },
        });
  const applied = await api.applyPlan({ plan, compensation: 'obs' });
  return { criterion, allocation, applied, plan };
}

/** The validation grid on magnitude uniform + OBS (no test image is read). */
export async function benchVitRecoverySelect(runner: Runner, log: (l: string) => void = () => {}) {
  const { api, s, sets } = await setup(runner);
  const runs = [];
  for (const steps of SELECTION_GRID.steps)
    for (const learningRate of SELECTION_GRID.learningRate) {
      await applyRow(api, 'magnitude');
      const c0 = process.cpuUsage();
      const t0 = Date.now();
      const r = await api.recover({
        ...RECOVERY,
        steps,
        learningRate,
        images: { training: sets.training, validation: sets.validation, validateEvery: VALIDATE_EVERY },
      });
      const last = r.validation!.at(-1)!;
      runs.push({ steps, learningRate, validation: r.validation, cpuS: cpuSeconds(process.cpuUsage(c0)), wallS: (Date.now() - t0) / 1000 });
      log(`select steps ${steps} lr ${learningRate}: validation top-1 ${points(last.accuracy)}% loss ${last.meanLoss.toFixed(4)}`);
    }
  const best = runs.reduce((a, b) => (b.validation!.at(-1)!.accuracy > a.validation!.at(-1)!.accuracy ? b : a));
  return {
    model: MODEL,
    protocol: {
      ...s.protocol,
      evaluation: 'none (validation only)',
      method: 'magnitude uniform + OBS at 50% FLOPs',
      batchSize: RECOVERY.batchSize,
    },
    grid: SELECTION_GRID,
    runs,
    best: { steps: best.steps, learningRate: best.learningRate },
    loadAverage: loadavg(),
  };
}

/** One-shot + OBS and + recovery rows on the 10k test images. */
export async function benchVitRecovery(runner: Runner, rows: VitRow[], log: (l: string) => void = () => {}) {
  const { api, s, sets } = await setup(runner);
  const test = await api.prepareImages(s.test);
  const accuracy = async (target: 'dense' | 'pruned') => {
    const r = await api.evaluateAccuracy({ dataset: test, batchSize: 100, target });
    return { accuracy: r.accuracy, interval95: r.interval95, meanLoss: r.meanLoss, correct: r.correct, images: r.images };
  };
  const loadAverageAtStart = loadavg();
  const dense = await accuracy('dense');
  log(`dense top-1 ${points(dense.accuracy)}%`);
  const out = [];
  for (const row of rows) {
    const { criterion, allocation, applied, plan } = await applyRow(api, row);
    const oneShot = await accuracy('pruned');
    const c0 = process.cpuUsage();
    const t0 = Date.now();
    const r = await api.recover({
      ...RECOVERY,
      images: { training: sets.training, validation: sets.validation, validateEvery: VALIDATE_EVERY },
    });
    const cpuS = cpuSeconds(process.cpuUsage(c0));
    const wallS = (Date.now() - t0) / 1000;
    const recovered = await accuracy('pruned');
    const entry = {
      row: `${criterion} ${allocation} + OBS + recovery`,
      criterion,
      allocation,
      compensation: 'obs',
      flopsRemoved: 1 - r.applied.cost.flops / r.applied.denseCost.flops,
      parameters: r.applied.parameters,
      heads: plan.layers.map((l) => l.removedHeads.length),
      ffn: plan.layers.map((l) => l.removedFfn.length),
      hiddenRemoved: plan.removedHidden?.length ?? 0,
      oneShot: { ...oneShot, dropPoints: points(dense.accuracy - oneShot.accuracy) },
      recovered: { ...recovered, dropPoints: points(dense.accuracy - recovered.accuracy) },
      recovery: { ...RECOVERY, trainingImages: sets.training.count, cpuS, wallS, adamStateBytes: r.adamStateBytes },
      curve: {
        validation: r.validation,
        trainingLossEvery10: r.curve.filter((p) => p.step % 10 === 0).map((p) => ({ step: p.step, loss: p.loss, lm: p.lm, kl: p.kl })),
      },
    };
    log(
      `${entry.row}: one-shot ${points(oneShot.accuracy)}% -> recovered ${points(recovered.accuracy)}% ` +
        `(drop ${entry.recovered.dropPoints} pt, FLOPs -${points(entry.flopsRemoved)}%, ${cpuS.toFixed(0)} s CPU)`,
    );
    void applied;
    out.push(entry);
  }
  const best = out.reduce((a, b) => (b.recovered.accuracy > a.recovered.accuracy ? b : a));
  const magnitude = out.find((r) => r.criterion === 'magnitude');
  return {
    model: MODEL,
    summary: {
      best: best.row,
      bestDropPoints: best.recovered.dropPoints,
      dropTargetMet: best.recovered.dropPoints <= 2,
      nvitVsMagnitudeAfterRecovery: magnitude
        ? out
            .filter((r) => r.criterion === 'nvit')
            .map((r) => ({ row: r.row, pointsOverMagnitude: points(r.recovered.accuracy - magnitude.recovered.accuracy) }))
        : 'magnitude row not run',
      loadAverageAtEnd: loadavg(),
    },
    protocol: {
      ...s.protocol,
      flopsTarget: FLOPS_FRACTION,
      settings: 'steps and learning rate from bench/results/vit-recovery-select-node.json (validation split), never from the test images',
      backend: 'training and accuracy: onnxruntime-node (CPU, 1 thread)',
      loadAverageAtStart,
    },
    dense,
    rows: out,
  };
}
