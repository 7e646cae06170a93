/**
 * Benchmark (`npm run bench -- --only torch-ratio`, issue 11 item 7): latency of our exported dense
 * graph (api.exportOnnx: the logits graph with embedded weights) against the graph torch.onnx.export
 * makes from the same weights (tools/reference/torch_export_demo.py, Debian's python3-torch; written to
 * tools/.cache/torch-export/, not committed), in the same runtime, runs interleaved. Also records the
 * largest logit difference between the two. ratio = torch median / ours median (>= 1: ours is at least
 * as fast).
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { StudioApi } from '../src/api/types';
import { asFloat32, int64Tensor, type Feeds, type Runner, type RunnerSession } from '../src/core/runner';
import { InputError } from '../src/core/errors';

export const TORCH_EXPORT = 'tools/.cache/torch-export/demo-gpt2.onnx';

function feedsFor(session: RunnerSession, batch: number, seq: number, vocab: number): Feeds {
  const ids = Array.from({ length: batch * seq }, (_, i) => (i * 7919) % vocab);
  const shape = [batch, seq];
  const feeds: Feeds = { input_ids: int64Tensor(ids, shape) };
  if (session.inputNames.includes('attention_mask')) feeds.attention_mask = int64Tensor(Array(batch * seq).fill(1), shape);
  if (session.inputNames.includes('position_ids'))
    feeds.position_ids = int64Tensor(
      Array.from({ length: batch * seq }, (_, i) => i % seq),
      shape,
    );
  return feeds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timeRun(s: RunnerSession, feeds: Feeds): Promise<number> {
  const t0 = performance.now();
  await s.run(feeds, ['logits']);
  return performance.now() - t0;
}

export async function benchTorchRatio(api: StudioApi, runner: Runner, log: (l: string) => void, rounds = 20) {
  if (!existsSync(TORCH_EXPORT))
    throw new InputError(`${TORCH_EXPORT} is missing.`, 'Run /usr/bin/python3 tools/reference/torch_export_demo.py first.');
  const ours = await runner.open(await api.exportOnnx());
  const torch = await runner.open(new Uint8Array(readFileSync(TORCH_EXPORT)));
  const vocab = (JSON.parse(readFileSync('public/models/demo-gpt2/config.json', 'utf8')) as { vocab_size: number }).vocab_size;
  const shapes = [
    { batch: 1, seq: 128 },
    { batch: 4, seq: 128 },
  ];
  const rows = [];
  for (const { batch, seq } of shapes) {
    const fo = feedsFor(ours, batch, seq, vocab);
    const ft = feedsFor(torch, batch, seq, vocab);
    const a = asFloat32((await ours.run(fo, ['logits'])).logits, 'logits');
    const b = asFloat32((await torch.run(ft, ['logits'])).logits, 'logits');
    let maxAbsLogitDiff = 0;
    for (let i = 0; i < a.length; i++) maxAbsLogitDiff = Math.max(maxAbsLogitDiff, Math.abs(a[i]! - b[i]!));
    for (let w = 0; w < 3; w++) {
      await timeRun(ours, fo);
      await timeRun(torch, ft);
    }
    const oursMs: number[] = [];
    const torchMs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      // interleaved, alternating which goes first
      if (r % 2 === 0) {
        oursMs.push(await timeRun(ours, fo));
        torchMs.push(await timeRun(torch, ft));
      } else {
        torchMs.push(await timeRun(torch, ft));
        oursMs.push(await timeRun(ours, fo));
      }
    }
    const row = {
      batch,
      seq,
      oursMedianMs: median(oursMs),
      torchMedianMs: median(torchMs),
      ratio: median(torchMs) / median(oursMs),
      maxAbsLogitDiff,
      oursMs,
      torchMs,
    };
    log(
      `${batch}x${seq}: ours ${row.oursMedianMs.toFixed(1)} ms, torch.onnx.export ${row.torchMedianMs.toFixed(1)} ms, ratio ${row.ratio.toFixed(3)}, max |Δlogit| ${maxAbsLogitDiff.toExponential(2)}`,
    );
    rows.push(row);
  }
  await Promise.all([ours.release(), torch.release()]);
  return {
    model: 'public/models/demo-gpt2',
    reference: `${TORCH_EXPORT} (tools/reference/torch_export_demo.py: torch 1.13 torch.onnx.export, opset 17, constant folding)`,
    runtime: 'onnxruntime-web WASM in Node (the bench runner)',
    loadAverage: loadavg(),
    goal: 'ratio >= 1.0',
    rows,
  };
}
