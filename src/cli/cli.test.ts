/**
 * The CLI as a user runs it (`node --import tsx src/cli/main.ts ...`, onnxruntime-node): `prune`
 * writes the export bundle and prints perplexity with its protocol, parameters and latency; the
 * written onnx/model.onnx (the with-past graph) loads and runs as a prefill; `apply` of the written plan.json gives the same model;
 * `slimgpt` writes its bundle; bad flags exit 1 with the typed error and its hint on stderr.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { prefillFeeds } from '../test-util/ort-prefill';
import { describe, expect, it } from 'vitest';

const SMALL = ['--samples', '2', '--seq', '64', '--max-tokens', '512', '--runs', '2', '--json'];
const DEMO = ['--model', 'public/models/demo-gpt2'];

/** `--flag value` pairs from an object. */
const flags = (o: Record<string, string>) => Object.entries(o).flatMap(([k, v]) => [`--${k}`, v]);

/** The printed JSON summary (fields as the commands write them). */
interface Summary {
  compensation: string;
  plan: string;
  parameters: { dense: number; pruned: number };
  perplexity: {
    dense: number;
    pruned: number;
    protocol: Record<string, unknown>;
    heldOut?: { dense: number; pruned: number; protocol: Record<string, unknown> };
  };
  latencyMs: { dense: number; flopBoundSpeedup: number };
  verification: { maxAbsLogitDiff: number };
  layers: unknown[];
}

function cli(...args: string[]) {
  const r = spawnSync('node', ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 240_000 });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return { code: r.status, stderr: r.stderr, json: (last ? JSON.parse(last) : {}) as Summary };
}

describe('cli', () => {
  const out = mkdtempSync(join(tmpdir(), 'prune-studio-cli-'));
  let prunedPerplexity = 0;

  it('prune writes a verified bundle and prints perplexity, parameters and latency', async () => {
    const dir = join(out, 'pruned');
    const r = cli('prune', ...DEMO, ...flags({ criterion: 'wanda', ratio: '0.5', compensate: 'obs', out: dir }), ...SMALL);
    expect(r.code, r.stderr).toBe(0);
    for (const f of [
      'onnx/model.onnx',
      'config.json',
      'generation_config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'plan.json',
      'README.md',
    ])
      expect(existsSync(join(dir, f))).toBe(true);
    expect(r.json.compensation).toBe('obs');
    expect(r.json.parameters).toEqual({ dense: 4240896, pruned: 2664448 });
    expect(r.json.perplexity.protocol).toMatchObject({ textName: 'evaluation.txt', contextLength: 128, stride: 64, tokensScored: 511 });
    expect(r.json.perplexity.pruned).toBeGreaterThan(r.json.perplexity.dense);
    // the held-out text of another domain, same protocol, reported next to the evaluation one
    expect(r.json.perplexity.heldOut?.protocol).toMatchObject({
      textName: 'heldout.txt',
      contextLength: 128,
      stride: 64,
      tokensScored: 511,
    });
    expect(r.json.perplexity.heldOut!.dense).toBeGreaterThan(r.json.perplexity.dense);
    prunedPerplexity = r.json.perplexity.pruned;
    expect(r.json.latencyMs.dense).toBeGreaterThan(0);
    expect(r.json.latencyMs.flopBoundSpeedup).toBeGreaterThan(1.5);
    expect(r.json.verification.maxAbsLogitDiff).toBeLessThan(1e-3);
    const session = await ort.InferenceSession.create(readFileSync(join(dir, 'onnx', 'model.onnx')));
    const ids = [464, 1468, 582, 3114];
    // The with-past graph as a prefill: all-ones mask, positions 0..3, each layer's past empty with its declared kv heads.
    const res = await session.run(prefillFeeds(session, ids));
    expect(res.logits!.dims).toEqual([1, 4, 4096]);
    await session.release();
  }, 300_000);

  it('eval --model <the written bundle> loads it and gives the pruned perplexity (round trip)', () => {
    const r = cli('eval', '--model', join(out, 'pruned'), '--text', 'public/data/evaluation.txt', '--max-tokens', '512', '--json');
    expect(r.code, r.stderr).toBe(0);
    const written = JSON.parse(readFileSync(join(out, 'pruned', 'config.json'), 'utf8')) as {
      prune_studio: { attention_scale_folded: boolean };
    };
    expect(written.prune_studio.attention_scale_folded).toBe(true);
    const got = (r.json as unknown as { perplexity: number }).perplexity;
    expect(prunedPerplexity).toBeGreaterThan(0);
    expect(Math.abs(got / prunedPerplexity - 1)).toBeLessThan(1e-4);
    expect((r.json as unknown as { parameters: number }).parameters).toBe(2664448);
  }, 300_000);

  it("eval --model <a bundle holding only onnx/model_q4.onnx> loads it and gives the file's own perplexity", () => {
    const q4 = join(out, 'q4');
    const text = ['--text', 'public/data/evaluation.txt', '--max-tokens', '512', '--json'];
    const w = cli('quantize', '--model', join(out, 'pruned'), '--quantize', 'int4-rtn', '--out', q4, ...text);
    expect(w.code, w.stderr).toBe(0);
    expect(existsSync(join(q4, 'onnx', 'model_q4.onnx'))).toBe(true);
    expect(existsSync(join(q4, 'onnx', 'model.onnx'))).toBe(false);
    const written = (w.json as unknown as { perplexity: Record<string, number> }).perplexity['int4-rtn']!;
    const r = cli('eval', '--model', q4, ...text);
    expect(r.code, r.stderr).toBe(0);
    const got = (r.json as unknown as { perplexity: number }).perplexity;
    expect(Math.abs(got / written - 1), `re-loaded ${got} vs written ${written}`).toBeLessThan(1e-3);
    // --variant names a file the folder does not have: a named input error.
    const bad = cli('eval', '--model', q4, '--variant', 'fp16', ...text);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/no fp16 model file/);
  }, 300_000);

  it('prune --target parameters removes that fraction of the parameters', () => {
    const r = cli(
      'prune',
      ...DEMO,
      ...flags({ criterion: 'magnitude', ratio: '0.3', target: 'parameters', out: join(out, 'p30') }),
      ...SMALL,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.plan).toBe('magnitude-uniform-parameters0.3-l0');
    expect(Math.abs(1 - r.json.parameters.pruned / r.json.parameters.dense - 0.3)).toBeLessThan(0.005);
  }, 300_000);

  it('apply of the written plan gives the same model', () => {
    const r = cli('apply', ...DEMO, ...flags({ plan: join(out, 'pruned', 'plan.json'), out: join(out, 'again') }), ...SMALL);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.parameters.pruned).toBe(2664448);
    expect(readFileSync(join(out, 'again', 'plan.json'), 'utf8')).toContain('"removedHeads"');
  }, 300_000);

  it('slimgpt writes its bundle and reports every layer', () => {
    const r = cli('slimgpt', ...DEMO, ...flags({ ratio: '0.25', allocation: 'incremental', out: join(out, 'slim') }), ...SMALL);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.layers).toHaveLength(4);
    expect(r.json.compensation).toBe('obs');
    expect(r.json.plan).toBe('slimgpt-incremental-h25-f25');
    expect(r.stderr).toMatch(/layer 3: heads/);
    expect(existsSync(join(out, 'slim', 'onnx', 'model.onnx'))).toBe(true);
  }, 300_000);

  it('bad flags exit 1 with the typed error', () => {
    const r = cli('prune', ...DEMO, ...flags({ criterion: 'wanda', ratio: '0.5', compensate: 'magic', out: join(out, 'x') }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/InputError .*--compensate must be one of none, bias, obs/);
    const target = cli('prune', ...DEMO, ...flags({ criterion: 'magnitude', ratio: '0.3', target: 'bytes', out: join(out, 'y') }));
    expect(target.code).toBe(1);
    expect(target.stderr).toMatch(/--target must be units, parameters or flops[\s\S]*hint: --target parameters/);
    const missing = cli('eval', '--model', join(out, 'does-not-exist'), '--text', 'public/data/evaluation.txt');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/hint:/);
  }, 120_000);

  it('a missing --text, a --model file and a plan that is null or not JSON are named input errors', () => {
    const text = cli('eval', ...DEMO, '--text', join(out, 'nope.txt'));
    expect(text.code).toBe(1);
    expect(text.stderr).toContain(`InputError (INPUT_INVALID): --text: file ${join(out, 'nope.txt')} does not exist.`);
    const file = cli('eval', '--model', 'public/models/demo-gpt2/config.json', '--text', 'public/data/evaluation.txt');
    expect(file.stderr).toMatch(/InputError .*demo-gpt2\/config.json is a file, not a model folder/);
    writeFileSync(join(out, 'null.json'), 'null');
    const nul = cli('apply', ...DEMO, ...flags({ plan: join(out, 'null.json'), out: join(out, 'z') }));
    expect(nul.code).toBe(1);
    expect(nul.stderr).toMatch(/InputError .*not a Prune Studio plan \(it holds null, not an object\)/);
    writeFileSync(join(out, 'broken.json'), '{"format": "prune-studio-plan",\n  "version": 1,,');
    const broken = cli('apply', ...DEMO, ...flags({ plan: join(out, 'broken.json'), out: join(out, 'z') }));
    expect(broken.stderr).toMatch(/JsonFileError .*broken.json is not valid JSON: .* at line 2:16/);
  }, 120_000);
});
