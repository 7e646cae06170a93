/**
 * `npm run bench`: benchmarks on the demo model, written as JSON under bench/results/.
 *   importance-<backend>.json  calibration + criteria time and peak memory
 *   quality-<backend>.json     50% / 70% pruning: criteria vs random, compensation none/bias/obs
 *   latency-<backend>.json     measured vs FLOP-bound speedup for ratios 0..70%
 *   preview-<backend>.json     live preview: time to the first streamed perplexity estimate
 *   iterative-<backend>.json   iterative prune-and-recover vs one-shot (Taylor, 50% / 70%)
 * Backends: node-wasm (onnxruntime-web in Node) always; node-cpu (onnxruntime-node) with --cpu;
 * chromium-wasm via bench/browser.ts (needs the built app and Debian chromium) unless --no-browser.
 *   memory-<backend>.json      peak RSS per step on gpt2-124m (bench/memory.ts; only with --only memory,
 *                              after npm run scale-models; --model <dir> picks another folder)
 * Flags: --only importance|quality|latency|preview|iterative|memory
 */
import { createWebRunner } from '../src/runtime/ort-web';
import { createNodeRunner } from '../src/runtime/ort-node';
import { openDemo, writeResult } from './common';
import { benchImportance } from './importance';
import { benchQuality } from './quality';
import { benchLatency } from './latency';
import { benchPreview } from './preview';
import { benchIterative } from './iterative';
import { benchMemory } from './memory';

const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const want = (name: string) => !only || only === name;

async function main() {
  const backends = [
    { name: 'node-wasm', runner: createWebRunner() },
    ...(args.includes('--cpu') ? [{ name: 'node-cpu', runner: createNodeRunner() }] : []),
  ];
  for (const { name, runner } of backends) {
    if (only === 'memory') {
      const model = args.includes('--model') ? args[args.indexOf('--model') + 1] : undefined;
      console.log('wrote', writeResult(`memory-${name}`, await benchMemory(runner, { model, log: (l) => console.log(l) })));
      continue;
    }
    const api = await openDemo(runner);
    if (want('importance')) console.log('wrote', writeResult(`importance-${name}`, await benchImportance(api)));
    if (want('quality')) console.log('wrote', writeResult(`quality-${name}`, await benchQuality(api, undefined, (l) => console.log(l))));
    if (want('latency')) console.log('wrote', writeResult(`latency-${name}`, await benchLatency(api)));
    if (want('preview')) console.log('wrote', writeResult(`preview-${name}`, await benchPreview(api)));
    if (want('iterative'))
      console.log('wrote', writeResult(`iterative-${name}`, await benchIterative(api, { log: (l) => console.log(l) })));
  }
  if (!args.includes('--no-browser') && (want('latency') || want('importance') || want('preview'))) {
    const { benchBrowser } = await import('./browser');
    console.log('wrote', writeResult('chromium-wasm', await benchBrowser()));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
