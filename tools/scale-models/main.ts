/**
 * Writes the size-faithful random-weight models (see shapes.ts) into tools/.cache/scale-models/:
 *   npm run scale-models -- [--models gpt2-124m,smollm2-135m,qwen2.5-0.5b] [--out <dir>] [--seed 1234] [--force]
 * (= node --import tsx tools/scale-models/main.ts ...). Existing complete folders are kept unless --force.
 */
import { DEFAULT_ROOT, DEFAULT_SEED, ensureModel, writeModel } from './write';
import { MODEL_NAMES } from './shapes';

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

function main(args: string[]): void {
  const models = (flag(args, 'models') ?? MODEL_NAMES.join(',')).split(',').filter(Boolean);
  const root = flag(args, 'out') ?? DEFAULT_ROOT;
  const seed = Number(flag(args, 'seed') ?? DEFAULT_SEED);
  for (const name of models) {
    const t0 = performance.now();
    const m = args.includes('--force') ? writeModel(name, root, seed) : ensureModel(name, root, seed);
    const s = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(
      `${m.dir}: ${m.parameters.toLocaleString('en-US')} parameters, model.safetensors ${(m.fileBytes / 1e6).toFixed(1)} MB (${s} s)`,
    );
  }
}

main(process.argv.slice(2));
