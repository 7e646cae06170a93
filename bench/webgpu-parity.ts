/**
 * WebGPU against WASM on a size-faithful model (issue 11, item 6: "numerics checked against WASM"),
 * in Node with Dawn (bench/webgpu-node.ts) and onnxruntime-web's browser build
 * (bench/ort-web-browser-build.mjs): the same model through two StudioApis, one on each provider,
 * each scoring the same dense perplexity protocol and greedily generating the same tokens.
 *   node --import tsx --import ./bench/ort-web-browser-build.mjs bench/webgpu-parity.ts --webgpu <webgpu pkg dir>
 *     [--model gpt2-124m | --dir <model folder>] [--tokens 1024] [--new-tokens 16] [--software-gpu]
 * Writes bench/results/webgpu-parity-node.json.
 */
import { pathToFileURL } from 'node:url';
import { createStudioApi } from '../src/api/studio';
import { dirSource } from '../src/cli/dir-source';
import { createWebRunner } from '../src/runtime/ort-web';
import { ensureModel } from '../tools/scale-models/write';
import { EVAL_TEXT, flag, writeResult } from './common';
import { installDawn, ortWasmPaths } from './webgpu-node';

async function onProvider(
  dir: string,
  webgpu: boolean,
  tokens: number,
  newTokens: number,
  extra: { allowSoftwareGpu: boolean; wasmPaths?: string },
) {
  const runner = createWebRunner({ isolate: false, preferWebGpu: webgpu, ...extra });
  const api = createStudioApi({ runner, demoUrl: '', openDir: dirSource });
  const t0 = performance.now();
  const summary = await api.loadModel({ kind: 'dir', path: dir });
  const loadMs = performance.now() - t0;
  const t1 = performance.now();
  const ppl = await api.evaluatePerplexity({
    text: EVAL_TEXT,
    textName: 'evaluation.txt',
    contextLength: 128,
    stride: 64,
    maxTokens: tokens,
    target: 'dense',
  });
  const perplexityMs = performance.now() - t1;
  const request = {
    prompt: 'The history of the city begins',
    maxNewTokens: newTokens,
    temperature: 0,
    topK: 0,
    seed: 1,
    target: 'dense' as const,
  };
  await api.generate(request);
  const generated = await api.generate(request);
  return {
    backend: summary.backend,
    loadMs: Math.round(loadMs),
    perplexityMs: Math.round(perplexityMs),
    perplexity: ppl.perplexity,
    meanNll: ppl.meanNll,
    tokensScored: ppl.protocol.tokensScored,
    ids: generated.ids ?? [],
    tokensPerSecond: Math.round((generated.newTokens * 10000) / generated.ms) / 10,
  };
}

export async function runWebGpuParity(args: string[]): Promise<void> {
  const dawn = flag(args, 'webgpu');
  if (!dawn) throw new Error('--webgpu <folder of the webgpu npm package> is required');
  const model = flag(args, 'model') ?? 'gpt2-124m';
  const tokens = Number(flag(args, 'tokens') ?? 1024);
  const newTokens = Number(flag(args, 'new-tokens') ?? 16);
  const wasmPaths = flag(args, 'wasm-paths');
  const extra = { allowSoftwareGpu: args.includes('--software-gpu'), wasmPaths: ortWasmPaths(wasmPaths) };
  const adapter = await installDawn(dawn);
  const dir = flag(args, 'dir') ?? ensureModel(model).dir;
  const wasm = await onProvider(dir, false, tokens, newTokens, extra);
  const webgpu = await onProvider(dir, true, tokens, newTokens, extra);
  if (webgpu.backend.name !== 'webgpu') throw new Error(`the WebGPU side opened on ${webgpu.backend.name}`);
  const firstDivergence = webgpu.ids.findIndex((id, i) => id !== wasm.ids[i]);
  const result = {
    model: flag(args, 'dir') ?? model,
    adapter,
    protocol: { tokens, contextLength: 128, stride: 64, newTokens },
    wasm,
    webgpu,
    perplexityRelativeDifference: Math.abs(webgpu.perplexity - wasm.perplexity) / wasm.perplexity,
    meanNllDifference: Math.abs(webgpu.meanNll - wasm.meanNll),
    greedyTokensEqual: firstDivergence === -1 && webgpu.ids.length === wasm.ids.length,
    firstDivergence,
  };
  console.log(JSON.stringify({ ...result, wasm: { ...wasm, ids: undefined }, webgpu: { ...webgpu, ids: undefined } }, null, 1));
  console.log('wrote', writeResult('webgpu-parity-node', result));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runWebGpuParity(process.argv.slice(2)).then(
    // Dawn's teardown took ~40 s on SwiftShader; everything is written (pipes and files are synchronous here)
    () => process.kill(process.pid, 'SIGKILL'),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
