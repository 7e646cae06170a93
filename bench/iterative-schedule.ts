/**
 * Schedule study of iterative prune-and-recover (issue 15): one configuration per call, appended as
 * a JSON line to bench/results/iterative-schedule-node-wasm.jsonl. Perplexity on a validation slice
 * of calibration.txt (its second half: never used for calibration or training, which read the first
 * 8,192 tokens), on evaluation.txt and on the held-out text. Schedules are chosen on the validation
 * column only; the held-out column is what the targets are read from.
 *   node --import tsx bench/iterative-schedule.ts --ratio 0.5 --recovery obs+distill --steps 10 --final 60 --schedule run
 *   node --import tsx bench/iterative-schedule.ts --ratio 0.5 --oneshot 60        (one-shot taylor + OBS + 60 steps)
 *   node --import tsx bench/iterative-schedule.ts --ratio 0.5 --slimgpt uniform   (one-shot SlimGPT, no training)
 * CPU seconds (process.cpuUsage) and the load average are recorded with wall time.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createWebRunner } from '../src/runtime/ort-web';
import { defaultRounds } from '../src/prune/iterative';
import type { Recovery } from '../src/prune/recovery/registry';
import { CALIB_TEXT, EVAL_TEXT, machine, openDemo } from './common';

const PROTOCOL = { contextLength: 128, stride: 64, maxTokens: 8192 };
const TEXTS = {
  validation: { ...PROTOCOL, text: CALIB_TEXT.slice(Math.floor(CALIB_TEXT.length / 2)), textName: 'calibration-second-half.txt' },
  evaluation: { ...PROTOCOL, text: EVAL_TEXT, textName: 'evaluation.txt' },
  heldOut: { ...PROTOCOL, text: readFileSync('public/data/heldout.txt', 'utf8'), textName: 'heldout.txt' },
};

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

async function main() {
  const ratio = Number(flag('ratio', '0.5'));
  const lr = Number(flag('lr', '2e-4'));
  const oneshot = Number(flag('oneshot', '0'));
  const training = { text: CALIB_TEXT, textName: 'calibration.txt', samples: 64, seq: 128 };
  const api = await openDemo(createWebRunner());
  await api.calibrate({ text: CALIB_TEXT, textName: 'calibration.txt', samples: 16, seq: 128, withHessians: true });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let config: Record<string, unknown>;
  let curves: unknown;
  const slim = process.argv.includes('--slimgpt') ? (flag('slimgpt', 'uniform') as 'uniform' | 'incremental') : undefined;
  if (slim) {
    config = { method: `one-shot SlimGPT ${slim}`, steps: 0 };
    await api.slimGptPrune({ heads: ratio, ffn: ratio, allocation: slim, perplexity: { ...TEXTS.evaluation, maxTokens: 512 } });
  } else if (oneshot > 0 || process.argv.includes('--oneshot')) {
    await api.computeImportance('taylor');
    const plan = await api.allocatePlan({ criterion: 'taylor', allocation: 'uniform', heads: ratio, ffn: ratio, layers: 0 });
    await api.applyPlan({ plan, compensation: 'obs' });
    config = { method: 'one-shot taylor + OBS', steps: oneshot, lr };
    if (oneshot > 0) await api.recover({ steps: oneshot, learningRate: lr, training, perplexity: { ...TEXTS.evaluation, maxTokens: 512 } });
  } else {
    const recovery = flag('recovery', 'obs+distill') as Recovery;
    const rounds = Number(flag('rounds', String(defaultRounds(ratio))));
    const steps = Number(flag('steps', '10'));
    const finalSteps = Number(flag('final', '0'));
    const trainingSchedule = flag('schedule', 'run') as 'run' | 'round';
    config = {
      method: `iterative taylor ${recovery}`,
      rounds,
      stepsPerRound: steps,
      finalSteps,
      totalSteps: rounds * steps + finalSteps,
      schedule: trainingSchedule,
      lr,
    };
    const it = await api.iterativePrune({
      criterion: 'taylor',
      heads: ratio,
      ffn: ratio,
      rounds,
      recovery,
      finalSteps,
      trainingSchedule,
      training: { steps, learningRate: lr, training },
      perplexity: { ...TEXTS.evaluation, maxTokens: 2048 },
    });
    curves = it.rounds.map((r) => ({
      round: r.round,
      ppl2048: +r.perplexity.toFixed(3),
      loss: [r.lossBeforeRecovery, r.lossAfterRecovery].map((v) => +v.toFixed(4)),
    }));
  }
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - t0) / 1000;
  const ppl: Record<string, number> = {};
  for (const [k, req] of Object.entries(TEXTS))
    ppl[k] = +(await api.evaluatePerplexity({ ...req, target: 'pruned' })).perplexity.toFixed(2);
  if (process.argv.includes('--dense'))
    for (const [k, req] of Object.entries(TEXTS))
      ppl[`dense_${k}`] = +(await api.evaluatePerplexity({ ...req, target: 'dense' })).perplexity.toFixed(2);
  const row = {
    ratio,
    ...config,
    ...ppl,
    wallSeconds: +seconds.toFixed(1),
    cpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(1),
    loadavg: loadavg().map((v) => +v.toFixed(2)),
    machine: machine(),
    curves,
  };
  console.log(JSON.stringify(row));
  appendFileSync('bench/results/iterative-schedule-node-wasm.jsonl', JSON.stringify(row) + '\n');
}

void main();
