/**
 * Benchmark-length fuzzing (`npm run bench -- --only fuzz [--fuzz-cases N] [--fuzz-seed S]`): the
 * suite's mutation fuzzer (src/test-util/fuzz.ts) with more cases per format (default 2,000);
 * writes loads, named refusals by error class, and every finding (an outcome that is neither).
 */
import type { Runner } from '../src/core/runner';
import { FORMATS, fuzzFormat, type FuzzSummary } from '../src/test-util/fuzz';

export async function benchFuzz(runner: Runner, cases = 2000, seed = 7, log?: (l: string) => void) {
  const formats: Record<string, FuzzSummary & { seconds: number }> = {};
  for (const f of FORMATS) {
    const t0 = performance.now();
    const s = await fuzzFormat(f, cases, runner, seed);
    formats[f] = { ...s, seconds: (performance.now() - t0) / 1000 };
    log?.(
      `fuzz ${f}: ${s.cases} cases, ${s.loaded} loaded, ${s.refused} refused, ${s.findings.length} findings (${formats[f].seconds.toFixed(1)} s)`,
    );
  }
  const findings = Object.values(formats).reduce((a, s) => a + s.findings.length, 0);
  return { casesPerFormat: cases, seed, findings, formats };
}
