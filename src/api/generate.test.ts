/**
 * api.generate with the KV cache (graph/kv-cache.ts + eval/kv-decoder.ts) on the demo model, dense
 * and pruned: the tokens equal those of the no-cache loop (the whole context re-run through the
 * exported logits graph each token), greedy and sampled, also once the context window is full and
 * slides; the prompt is prefilled once, then each token is a one-token step; the with-past session
 * is opened on first use and kept, the latency session is not opened.
 */
import { describe, expect, it } from 'vitest';
import { asFloat32, type Runner, type RunnerSession } from '../core/runner';
import { dirSource } from '../cli/dir-source';
import { generateIds } from '../eval/generate';
import { loadTokenizer } from '../io/tokenizer';
import { decodeModel } from '../io/onnx';
import { modelFeeds } from '../io/onnx-import/source-model';
import { createNodeRunner } from '../runtime/ort-node';
import { DEMO_DIR } from '../test-util/golden';
import { createStudioApi } from './studio';
import type { GenerateRequest, Progress, StudioApi } from './types';

const inner = createNodeRunner({ threads: 1 });

/** Logs every run as `<session>:<input_ids length>` for sessions with a `past_key_values.0.key` input. */
function loggingRunner(log: string[], opened: string[][]): Runner {
  return {
    async open(model, options) {
      const session = await inner.open(model, options);
      const id = opened.length;
      opened.push([...session.inputNames]);
      const logged: RunnerSession = {
        inputNames: session.inputNames,
        outputNames: session.outputNames,
        backend: session.backend,
        run: (feeds, outputs) => {
          if (session.inputNames.includes('past_key_values.0.key')) log.push(`${id}:${feeds.input_ids?.dims[1]}`);
          return session.run(feeds, outputs);
        },
        release: () => session.release(),
      };
      return logged;
    },
  };
}

/** The generation loop as it was before the cache: the whole window through a logits graph per token. */
async function uncachedText(onnx: Uint8Array, req: GenerateRequest): Promise<string> {
  const tokenizer = await loadTokenizer(dirSource(DEMO_DIR), 'demo', 4096);
  const session = await inner.open(onnx);
  const model = decodeModel(onnx);
  try {
    const V = 4096;
    const prompt = tokenizer.encode(req.prompt);
    const out = await generateIds(
      prompt,
      128,
      async (ctx) => {
        // Either graph: the logits graph, or the bundle's with-past onnx/model.onnx run as a prefill of the whole window.
        const res = await session.run(modelFeeds(model, [ctx]), ['logits']);
        return asFloat32(res.logits, 'logits').subarray((ctx.length - 1) * V, ctx.length * V);
      },
      { maxNewTokens: req.maxNewTokens, temperature: req.temperature, topK: req.topK, seed: req.seed, stopId: tokenizer.eosId },
    );
    return tokenizer.decode(out);
  } finally {
    await session.release();
  }
}

const SHORT: GenerateRequest = {
  prompt: 'Once upon a time there was a little girl who',
  maxNewTokens: 24,
  temperature: 0,
  topK: 0,
  seed: 1,
  target: 'dense',
};
/** ~115 prompt tokens + 30 new ones: the 128-token window fills and slides. */
const LONG: GenerateRequest = {
  ...SHORT,
  prompt: Array.from({ length: 10 }, () => 'The cat sat on the mat and looked at the dog.').join(' '),
  maxNewTokens: 30,
};

async function expectSameAsUncached(api: StudioApi, onnx: Uint8Array, req: GenerateRequest): Promise<void> {
  const got = await api.generate(req);
  expect(got.newTokens).toBeGreaterThan(0);
  expect(got.text).toBe(await uncachedText(onnx, req));
}

describe('generate with the KV cache', () => {
  it('dense and pruned: the same tokens as the no-cache loop; one prefill then one-token steps; lazy sessions', async () => {
    const log: string[] = [];
    const opened: string[][] = [];
    const api = createStudioApi({ runner: loggingRunner(log, opened), demoUrl: '', openDir: dirSource });
    await api.loadModel({ kind: 'dir', path: DEMO_DIR });
    const sessionsAfterLoad = opened.length;
    const dense = await api.exportOnnx();

    const reports: Progress[] = [];
    const first = await api.generate(SHORT, { onProgress: (p) => reports.push(p) });
    // progress: 'preparing' (done 0), then one report per decoder run, each of maxNewTokens
    expect(reports.map((p) => p.done)).toEqual(Array.from({ length: log.length + 1 }, (_, i) => i));
    expect(reports.every((p) => p.stage === 'generation' && p.total === SHORT.maxNewTokens)).toBe(true);
    expect(opened.length).toBe(sessionsAfterLoad + 1);
    expect(opened.at(-1)?.slice(0, 4)).toEqual(['input_ids', 'attention_mask', 'position_ids', 'past_key_values.0.key']);
    const promptLength = Number(log[0]!.split(':')[1]);
    expect(promptLength).toBeGreaterThan(5);
    expect(log.slice(1).every((l) => l.endsWith(':1'))).toBe(true);
    expect([first.newTokens, first.newTokens + 1]).toContain(log.length); // + 1 when it stopped at the end-of-text token
    expect(first.text).toBe(await uncachedText(dense, SHORT));

    await expectSameAsUncached(api, dense, { ...SHORT, temperature: 0.8, topK: 20, seed: 7 });
    log.length = 0;
    await expectSameAsUncached(api, dense, LONG);
    // Once the window is full every token re-prefills the last 128 (as the uncached loop does).
    expect(log.some((l) => l.endsWith(':128'))).toBe(true);
    expect(opened.length).toBe(sessionsAfterLoad + 1);

    await api.computeImportance('magnitude');
    const plan = await api.allocatePlan({ criterion: 'magnitude', allocation: 'uniform', heads: 0.5, ffn: 0.5, layers: 0 });
    await api.applyPlan({ plan, compensation: 'none' });
    const model = (await api.exportModel()).files.find((f) => f.name === 'onnx/model.onnx')!.bytes;
    const withPast = () => opened.filter((inputs) => inputs.includes('past_key_values.0.key')).length;
    const afterExport = withPast(); // the export's verification opened the written with-past file
    await expectSameAsUncached(api, model, { ...SHORT, target: 'pruned' });
    await expectSameAsUncached(api, model, { ...LONG, target: 'pruned' });
    expect(withPast()).toBe(afterExport + 1);
  }, 120_000);
});
