/**
 * Slow tier (runs in `npm test`, a few minutes): the full-size gpt2-124m (random weights, GPT-2's
 * tokenizer) generated on the fly, then the CLI as a user runs it — `prune` at 50% without
 * compensation (magnitude: no calibration), which measures, exports and verifies the bundle; the
 * exported onnx/model.onnx, re-loaded by onnxruntime alone and scored from its logits on the same
 * 512 tokens, must give the perplexity `prune` reported, and the folder re-loaded in the studio
 * (CLI eval) must give it too. Small token counts; no timing assertions.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as gpt2Encode } from 'gpt-3-encoder';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { prefillFeeds } from '../../src/test-util/ort-prefill';
import { writeModel } from './write';

/** What `prune` and `eval` print (the fields used here). */
interface PruneJson {
  parameters: { dense: number; pruned: number };
  perplexity: { dense: number; pruned: number; protocol: Record<string, unknown> };
  verification: { maxAbsLogitDiff: number };
}
interface EvalJson {
  parameters: number;
  perplexity: number;
  protocol: { tokensScored: number };
}

function cli<T>(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args, '--json'], { encoding: 'utf8', timeout: 600_000 });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return { code: r.status, stderr: r.stderr, json: (last ? JSON.parse(last) : {}) as T };
}

/** Mean next-token NLL of `ids` under model.onnx (float64 log-softmax of its logits), HF strided windows. */
async function onnxMeanNll(modelPath: string, ids: number[], ctx: number, stride: number): Promise<number> {
  const session = await ort.InferenceSession.create(modelPath);
  let sum = 0;
  let count = 0;
  let prevEnd = 0;
  for (let begin = 0; begin < ids.length; begin += stride) {
    const end = Math.min(begin + ctx, ids.length);
    const window = ids.slice(begin, end);
    const feeds = prefillFeeds(session, window);
    const logits = (await session.run(feeds)).logits!;
    const vocab = logits.dims[2]!;
    const data = logits.data as Float32Array;
    for (let t = Math.max(prevEnd, begin + 1); t < end; t++) {
      const row = data.subarray((t - begin - 1) * vocab, (t - begin) * vocab);
      let max = -Infinity;
      for (const x of row) max = Math.max(max, x);
      let z = 0;
      for (const x of row) z += Math.exp(x - max);
      sum += max + Math.log(z) - row[ids[t]!]!;
      count++;
    }
    prevEnd = end;
    if (end === ids.length) break;
  }
  await session.release();
  return sum / count;
}

describe('gpt2-124m through the CLI (slow tier)', () => {
  const root = mkdtempSync(join(tmpdir(), 'scale-gpt2-124m-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  let prunedPerplexity = NaN;

  it('prunes 50% and exports a verified bundle whose model.onnx gives the same perplexity', async () => {
    const model = writeModel('gpt2-124m', root);
    expect(model.parameters).toBe(124_439_808);
    const out = join(root, 'pruned');
    const tokens = ['--max-tokens', '512'];
    const pruned = cli<PruneJson>(
      'prune',
      '--model',
      model.dir,
      '--criterion',
      'magnitude',
      '--ratio',
      '0.5',
      '--compensate',
      'none',
      '--out',
      out,
      '--runs',
      '2',
      ...tokens,
    );
    expect(pruned.code, pruned.stderr).toBe(0);
    for (const f of ['onnx/model.onnx', 'config.json', 'tokenizer.json', 'plan.json', 'README.md'])
      expect(existsSync(join(out, f)), f).toBe(true);
    expect(pruned.json.parameters.dense).toBe(124_439_808);
    expect(pruned.json.parameters.pruned).toBeLessThan(124_439_808);
    expect(pruned.json.verification.maxAbsLogitDiff).toBeLessThan(1e-3);
    expect(pruned.json.perplexity.protocol).toMatchObject({ tokensScored: 511, contextLength: 128, stride: 64 });
    expect(Number.isFinite(pruned.json.perplexity.dense)).toBe(true);
    prunedPerplexity = pruned.json.perplexity.pruned;
    // Re-loaded by onnxruntime on its own: the first 512 GPT-2 tokens (gpt-3-encoder), scored from the logits.
    const ids = gpt2Encode(readFileSync('public/data/evaluation.txt', 'utf8')).slice(0, 512);
    const nll = await onnxMeanNll(join(out, 'onnx', 'model.onnx'), ids, 128, 64);
    expect(Math.abs(nll - Math.log(pruned.json.perplexity.pruned))).toBeLessThan(1e-4);
  }, 900_000);

  // The studio re-loads its own export (config.json's prune_studio.attention_scale_folded tells the
  // importer that 1/sqrt(head_dim) is folded into the query projection).
  it('the exported folder re-loads in the studio (CLI eval) with the same perplexity', () => {
    const out = join(root, 'pruned');
    const again = cli<EvalJson>('eval', '--model', out, '--text', 'public/data/evaluation.txt', '--max-tokens', '512');
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.protocol.tokensScored).toBe(511);
    expect(Math.abs(again.json.perplexity / prunedPerplexity - 1)).toBeLessThan(1e-6);
  }, 600_000);
});
