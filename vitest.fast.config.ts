/**
 * The fast tier (`npm run test:fast`): unit tests for the edit-test loop. Leaves out what compares
 * against the PyTorch goldens, spawns a process (CLI, python checker), or drives the studio api on
 * the demo / fixture models; `npm test` (vitest.config.ts) still runs everything, one file at a time.
 * Two files run at once here: these are short, so per-file start-up dominates and overlaps well
 * (measured on 2 loaded cores: 32 s vs 45 s serial, same CPU time). The full suite gains nothing from
 * it (15:18 vs 16:02, 267 vs 257 CPU-s): its long files are onnxruntime-bound on both cores already.
 */
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config';

/** Golden comparisons, spawned processes and whole-model integration: the slow tier. */
export const SLOW_TESTS = [
  'src/**/golden.test.ts',
  'src/**/*.golden.test.ts',
  'src/api/**/*.test.ts',
  'src/cli/cli.test.ts',
  'src/graph/checker.test.ts',
  'src/graph/grad/fd-demo.test.ts',
  'src/arch/llama.test.ts',
  'src/arch/load-onnx.test.ts',
];

export default mergeConfig(
  base,
  defineConfig({ test: { exclude: [...SLOW_TESTS, '**/node_modules/**'], fileParallelism: true, maxWorkers: 2 } }),
);
