/**
 * Prune Studio CLI: the same StudioApi as the browser, with onnxruntime-node.
 *   npm run cli -- eval --model <dir> --text <file> [--context 128] [--stride 64] [--max-tokens N] --json
 *   npm run cli -- eval --model <vit dir> --images <set.json | idx[.gz] --labels idx[.gz]> [--limit N] --json
 *   npm run cli -- export --model <dir> --out <file.onnx>
 *   npm run cli -- iterate --model <dir> --criterion taylor --ratio 0.5 --rounds 3 --recovery obs --out <dir>
 *   npm run cli -- slimgpt --model <dir> --ratio 0.5 --allocation incremental --out <dir>
 */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { serializeError } from '../core/errors';
import { createStudioApi, CRITERION_NAMES, EXPORT_FORMATS, getCriterion, type CriterionName } from '../api';
import { createNodeRunner } from '../runtime/ort-node';
import { dirSource } from './dir-source';
import { fileGramStore } from './gram-file-store';
import { collectGarbage } from './collect-garbage';
import { useNodeGemmThreads } from './gemm-threads-node';
import { applyCommand, printWarnings, pruneCommand, textCap } from './prune';
import { readTextFile } from './files';
import { ITERATE_USAGE, iterateCommand } from './iterate';
import { SLIMGPT_USAGE, slimGptCommand } from './slimgpt';
import { IMAGES_USAGE, imageEvalCommand } from './images';
import { QUANTIZE_USAGE, quantizeCommand } from './quantize';
import { numberFlag, parseArgs, stringFlag, type ParsedArgs } from './args';

const USAGE = `usage:
  prune-studio eval --model <dir> [--variant fp32|fp16|int8|q8|int4|q4] --text <file> [--context 128] [--stride 64] [--max-tokens N] [--max-text-chars N] [--json]
${IMAGES_USAGE}
  prune-studio export --model <dir> --out <file.onnx>
  prune-studio importance --model <dir> --criterion <${CRITERION_NAMES.join('|')}> [--calib <file>] [--samples 8] [--seq 128] [--json]
  prune-studio prune --model <dir> --criterion <name> --ratio <r> [--target units|parameters|flops] [--heads r] [--ffn r] [--layers n]
                     [--allocation uniform|global|incremental|sensitivity|latency|nvit-global (with --criterion nvit)] [--compensate none|bias|obs|redistribute] --out <dir>
                     image classifiers: --images <set.json | idx[.gz] --labels idx[.gz]> [--limit N] [--samples 64] (calibration and accuracy)
                     [--train-images <set.json | idx --train-labels idx>] (calibration and recovery training instead of --images)
                     [--recover-steps N --recover-lr 3e-4 --recover-batch 64] (distillation from the dense classifier + CE on labels)
  prune-studio apply --model <dir> --plan <plan.json> [--compensate none|bias|obs|redistribute] --out <dir>
  --compensate redistribute takes [--redistribute-rank N (default head_dim)] [--redistribute-ridge 0.01] [--redistribute-intercept]
${ITERATE_USAGE}
${SLIMGPT_USAGE}
${QUANTIZE_USAGE}
  prune, apply, iterate and slimgpt write the verified bundle in --format ${EXPORT_FORMATS.join('|')} (default onnx);
  they report perplexity on --text and on the held-out --heldout <file|none> (default public/data/heldout.txt);
  prune, apply and slimgpt take --recover-steps N [--recover-lr 2e-4]: recovery training (distillation) before export.`;

async function openStudio(args: ParsedArgs) {
  // large float64 products (OBS, SlimGPT, GPTQ) on one thread per core
  useNodeGemmThreads();
  // a large model's calibration Grams go to a temp file (cli/gram-file-store.ts)
  const api = createStudioApi({ runner: createNodeRunner(), demoUrl: '', openDir: dirSource, gramStore: fileGramStore, collectGarbage });
  // --variant fp32|fp16|int8|q8|int4|q4: which weight file of an ONNX bundle (default: the float32 one, else the only one).
  const variant = args.flags.has('variant') ? { variant: stringFlag(args, 'variant') } : {};
  const summary = await api.loadModel({ kind: 'dir', path: stringFlag(args, 'model'), ...variant });
  return { api, summary };
}

async function evalCommand(args: ParsedArgs): Promise<unknown> {
  if (args.flags.has('images')) {
    const { api, summary } = await openStudio(args);
    return imageEvalCommand(api, summary.name, args);
  }
  const textPath = stringFlag(args, 'text');
  const text = readTextFile(textPath, 'text');
  const { api, summary } = await openStudio(args);
  const maxTokens = numberFlag(args, 'max-tokens', 0);
  const result = await api.evaluatePerplexity({
    text,
    textName: basename(textPath),
    contextLength: numberFlag(args, 'context', 128),
    stride: numberFlag(args, 'stride', 64),
    ...(maxTokens ? { maxTokens } : {}),
    ...textCap(args),
  });
  printWarnings(result);
  return { model: summary.name, parameters: summary.parameters, ...result };
}

async function exportCommand(args: ParsedArgs): Promise<unknown> {
  const { api, summary } = await openStudio(args);
  const out = stringFlag(args, 'out');
  const bytes = await api.exportOnnx();
  writeFileSync(out, bytes);
  return { model: summary.name, out, bytes: bytes.length, parameters: summary.parameters };
}

const DEFAULT_CALIBRATION = 'public/data/calibration.txt';

async function withStudio(args: ParsedArgs, run: (api: Awaited<ReturnType<typeof openStudio>>['api']) => Promise<unknown>) {
  const { api } = await openStudio(args);
  return run(api);
}

async function importanceCommand(args: ParsedArgs): Promise<unknown> {
  const criterion = getCriterion(stringFlag(args, 'criterion'));
  const { api, summary } = await openStudio(args);
  let calibration;
  if (criterion.needs.stats || criterion.needs.maskedLoss) {
    const calibPath = stringFlag(args, 'calib', DEFAULT_CALIBRATION);
    calibration = await api.calibrate({
      text: readTextFile(calibPath, 'calib'),
      textName: basename(calibPath),
      samples: numberFlag(args, 'samples', 8),
      seq: numberFlag(args, 'seq', 128),
      withHessians: criterion.needs.gram,
      ...textCap(args),
    });
    printWarnings(calibration);
  }
  const scores = await api.computeImportance(criterion.name as CriterionName);
  const L = scores.numLayers;
  const rows = (a: Float64Array | null, width: number) =>
    a ? Array.from({ length: L }, (_, l) => Array.from(a.subarray(l * width, (l + 1) * width))) : null;
  return {
    model: summary.name,
    criterion: criterion.name,
    calibration,
    heads: rows(scores.heads, scores.numHeads),
    ffn: rows(scores.ffn, scores.ffnSize),
    layers: scores.layers ? Array.from(scores.layers) : null,
  };
}

const COMMANDS: Record<string, (args: ParsedArgs) => Promise<unknown>> = {
  eval: evalCommand,
  export: exportCommand,
  importance: importanceCommand,
  prune: (args) => withStudio(args, (api) => pruneCommand(api, args)),
  apply: (args) => withStudio(args, (api) => applyCommand(api, args)),
  iterate: (args) => withStudio(args, (api) => iterateCommand(api, args)),
  slimgpt: (args) => withStudio(args, (api) => slimGptCommand(api, args)),
  quantize: (args) => withStudio(args, (api) => quantizeCommand(api, args)),
};

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const run = args.command ? COMMANDS[args.command] : undefined;
  if (!run) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  try {
    const result = await run(args);
    process.stdout.write(`${JSON.stringify(result, null, args.flags.has('json') ? 0 : 2)}\n`);
    return 0;
  } catch (e) {
    const err = serializeError(e);
    process.stderr.write(`${err.name} (${err.code}): ${err.message}${err.hint ? `\n  hint: ${err.hint}` : ''}\n`);
    if (args.flags.has('json')) process.stdout.write(`${JSON.stringify({ error: err })}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
