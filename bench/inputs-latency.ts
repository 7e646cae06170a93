/**
 * Benchmark: what reading the weights as graph inputs costs per run (onnxruntime-web WASM in Node):
 * the logits graph with embedded initializers vs the same graph with `weights: 'inputs'` fed from
 * the IR, runs interleaved, at seq 128 and at one 1024-token window.
 *   node --import tsx bench/inputs-latency.ts [--model tools/.cache/scale-models/gpt2-124m]
 */
import { writeFileSync } from 'node:fs';
import { loadModelIR } from '../src/arch/load';
import { dirSource } from '../src/cli/dir-source';
import { int64Tensor, type RunnerSession } from '../src/core/runner';
import { buildOnnx } from '../src/graph/build';
import { openModelSession } from '../src/graph/model-session';
import { createWebRunner } from '../src/runtime/ort-web';
import { MEMORY_MODEL } from './memory';

async function main(args: string[]) {
  const dir = args.includes('--model') ? args[args.indexOf('--model') + 1]! : MEMORY_MODEL;
  const { ir } = await loadModelIR(dirSource(dir));
  const runner = createWebRunner();
  const embedded = await runner.open(buildOnnx(ir, { logits: true }));
  const inputs = await openModelSession(runner, ir, { logits: true });
  const result: Record<string, { embeddedMs: number[]; inputsMs: number[] }> = {};
  for (const [seq, runs] of [
    [128, 4],
    [1024, 2],
  ] as const) {
    const ids = {
      input_ids: int64Tensor(
        Array.from({ length: seq }, (_, i) => (i * 7919) % ir.spec.vocabSize),
        [1, seq],
      ),
    };
    const time = async (s: RunnerSession) => {
      const t0 = performance.now();
      await s.run(ids, ['logits']);
      return performance.now() - t0;
    };
    await time(embedded);
    await time(inputs);
    const r = { embeddedMs: [] as number[], inputsMs: [] as number[] };
    for (let i = 0; i < runs; i++) {
      const first = i % 2 === 0;
      const a = await time(first ? embedded : inputs);
      const b = await time(first ? inputs : embedded);
      r.embeddedMs.push(Math.round(first ? a : b));
      r.inputsMs.push(Math.round(first ? b : a));
    }
    result[`seq${seq}`] = r;
    console.log(seq, r);
  }
  writeFileSync('bench/results/inputs-latency-node-wasm.json', `${JSON.stringify({ model: dir, ...result }, null, 2)}\n`);
}

main(process.argv.slice(2)).catch((e) => {
  console.error(e);
  process.exit(1);
});
