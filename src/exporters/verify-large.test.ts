/**
 * The large-model verification path (exporters/verify.ts: reference block by block, the written
 * bytes opened as an external-data view of themselves, io/onnx/external-view.ts) on small random
 * gpt2 and llama models, forced with path 'blocks', in onnxruntime-web (WASM, the external-data
 * mount) and onnxruntime-node (data inlined): the same verdicts as the whole-graph path, and a
 * written file with one changed weight is still caught.
 */
import { describe, expect, it } from 'vitest';
import type { ModelIR } from '../core/ir';
import { emptyPlan } from '../core/plan';
import { asFloat32, type Runner, type RunnerSession } from '../core/runner';
import { openPrepared, prepareFile, type PreparedFile } from '../graph/open-file';
import { trackedFileStores } from '../test-util/tracked-file-store';
import { planMasks } from '../prune/masks';
import { sliceModel } from '../prune/slice';
import { createNodeRunner } from '../runtime/ort-node';
import { createWebRunner } from '../runtime/ort-web';
import { maskFeeds } from '../saliency/calibrate';
import { randomIR } from '../test-util/random-ir';
import { randomLlamaIR } from '../test-util/random-llama';
import { decodeModel } from '../io/onnx';
import { externalView } from '../io/onnx/external-view';
import { modelFeeds } from '../io/onnx-import/source-model';
import { decoderOnnx } from './onnx';
import { EXPORT_TOLERANCE } from './registry';
import type { ExportSubject, WrittenFileHost } from './types';
import { compareWithReference } from './verify';

function subject(ir: ModelIR): ExportSubject {
  const p = emptyPlan(ir, 'test');
  p.layers[0]!.removedHeads = [1];
  p.layers[1]!.removedFfn = [0, 3, 5, 6, 7, 20];
  const [L, H, F] = [ir.layers.length, ir.layers[0]!.numHeads, ir.layers[0]!.ffnSize];
  return {
    ir: sliceModel(ir, p),
    reference: { ir, masks: true, feeds: maskFeeds(planMasks(p), L, H, F), label: 'masked reference' },
    probe: [3, 1, 4, 1, 5, 9, 2, 6, 5, 3],
  };
}

const models: [string, () => ModelIR][] = [
  ['gpt2', () => randomIR({ layers: 3, hidden: 64, heads: 4, ffn: 128, vocab: 300, seed: 5 })],
  ['llama', () => randomLlamaIR({ layers: 3, hidden: 64, heads: 4, kvHeads: 4, ffn: 128, vocab: 300, seed: 5 })],
];
const runners: [string, () => Runner][] = [
  ['onnxruntime-web', () => createWebRunner({ threads: 1, preferWebGpu: false })],
  ['onnxruntime-node', () => createNodeRunner({ threads: 1 })],
];

describe.each(runners)('%s', (_name, makeRunner) => {
  const runner = makeRunner();

  it.each(models)('%s: block-by-block verification agrees with the whole graph and catches a changed weight', async (_f, make) => {
    const s = subject(make());
    const bytes = decoderOnnx(s.ir);
    const whole = await compareWithReference(bytes, s, runner, 'whole');
    const blocks = await compareWithReference(bytes, s, runner, 'blocks');
    expect(whole.maxAbsLogitDiff).toBeLessThan(EXPORT_TOLERANCE);
    expect(blocks.maxAbsLogitDiff).toBeLessThan(EXPORT_TOLERANCE);
    expect(Math.abs(blocks.maxAbsLogitDiff - whole.maxAbsLogitDiff)).toBeLessThan(1e-5);
    expect(blocks.positions).toBe(10);

    // the last block's down projection in the written file scaled and shifted per element: the viewed file must differ
    const raw = decodeModel(bytes).graph.initializer!.find((t) => t.name === 'layer2/mlp/down.weight_t')!.raw_data!;
    const bad = bytes.slice();
    const view = new DataView(bad.buffer, bad.byteOffset + (raw.byteOffset - bytes.byteOffset), raw.byteLength);
    for (let i = 0; i < raw.byteLength; i += 4) view.setFloat32(i, view.getFloat32(i, true) * 3 + (i % 28) * 0.05, true);
    expect((await compareWithReference(bad, s, runner, 'blocks')).maxAbsLogitDiff).toBeGreaterThan(EXPORT_TOLERANCE);
  });

  it('opens the external-data view with the same logits as the file itself', async () => {
    const ir = subject(models[0]![1]()).ir;
    const bytes = decoderOnnx(ir);
    const view = externalView(bytes);
    expect(view.external).toBeGreaterThan(5);
    expect(view.skeleton.byteLength).toBeLessThan(bytes.byteLength / 4);
    expect(view.externalData[0]!.data).toBe(bytes);
    const feeds = modelFeeds(decodeModel(bytes), [[3, 1, 4, 1, 5]]);
    const direct = await runner.open(bytes);
    const viewed = await runner.open(view.skeleton, { externalData: view.externalData });
    const a = asFloat32((await direct.run(feeds, ['logits'])).logits, 'logits');
    const b = asFloat32((await viewed.run(feeds, ['logits'])).logits, 'logits');
    await direct.release();
    await viewed.release();
    expect(Array.from(b)).toEqual(Array.from(a));
  });
});

describe('a written-file host (api/written-file.ts)', () => {
  it('opens the written file where the host prepared it (stored, in an isolate), after the reference, with the same verdict', async () => {
    const web = createWebRunner({ threads: 1, preferWebGpu: false });
    const s = subject(models[0]![1]());
    const bytes = decoderOnnx(s.ir);
    const { factory } = trackedFileStores();
    const store = await factory();
    const calls: string[] = [];
    const host: WrittenFileHost = {
      async prepare(b) {
        calls.push('prepare');
        const values = Math.floor(b.byteLength / 4);
        store.put('w', new Float32Array(b.buffer, b.byteOffset, values));
        const base = store.locate!('w')!;
        const at = (o: number, n: number) => (o + n <= 4 * values ? { file: base.file, at: base.at + o, bytes: n } : undefined);
        const file = prepareFile(b, { viewed: true, stored: { at } });
        expect(file.fromStorage).toBe(true);
        return {
          withSession: (use) =>
            withIsolatedSession(web, file, (session) => {
              calls.push('session');
              return use(session);
            }),
        };
      },
      restore: (b) => b,
    };
    const plain = await compareWithReference(bytes, s, web, 'blocks');
    const hosted = await compareWithReference(
      bytes,
      { ...s, written: host, beforeWritten: () => calls.push('reference done') },
      web,
      'blocks',
    );
    expect(calls).toEqual(['prepare', 'reference done', 'session']);
    expect(hosted.maxAbsLogitDiff).toBe(plain.maxAbsLogitDiff);
    await store.dispose();
  }, 60_000);
});

async function withIsolatedSession<T>(runner: Runner, file: PreparedFile, use: (s: RunnerSession) => Promise<T>): Promise<T> {
  const isolated = await runner.isolate!();
  try {
    const session = await openPrepared(isolated, file);
    try {
      return await use(session);
    } finally {
      await session.release();
    }
  } finally {
    await isolated.dispose();
  }
}
