/**
 * `npm run bench`: benchmarks on the demo model, written as JSON under bench/results/.
 *   importance-<backend>.json  calibration + criteria time and peak memory
 *   quality-<backend>.json     50% / 70% pruning: criteria vs random, compensation none/bias/obs
 *   latency-<backend>.json     measured vs FLOP-bound speedup for ratios 0..70%
 *   preview-<backend>.json     live preview: time to the first streamed perplexity estimate
 *   iterative-<backend>.json   iterative prune-and-recover vs one-shot (Taylor, 50% / 70%)
 *   quantize-<backend>.json    50% pruned, then fp32 / fp16 / int8 / int4 RTN / int4 GPTQ: bytes, perplexity, latency
 * Backends: node-wasm (onnxruntime-web in Node) always; node-cpu (onnxruntime-node) with --cpu;
 * chromium-wasm via bench/browser.ts (needs the built app and Debian chromium) unless --no-browser.
 * Flags: --only importance|quality|latency|preview|iterative|quantize
 */
import { createWebRunner } from '../src/runtime/ort-web';
import { createNodeRunner } from '../src/runtime/ort-node';
import { openDemo, writeResult } from './common';
import { benchImportance } from './importance';
import { benchQuality } from './quality';
import { benchLatency } from './latency';
import { benchPreview } from './preview';
import { benchIterative } from './iterative';
import { benchQuantize } from './quantize';

const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const want = (name: string) => !only || only === name;

async function main() {
  const backends = [
    { name: 'node-wasm', runner: createWebRunner() },
    ...(args.includes('--cpu') ? [{ name: 'node-cpu', runner: createNodeRunner() }] : []),
  ];
  for (const { name, runner } of backends) {
    const api = await openDemo(runner);
    if (want('importance')) console.log('wrote', writeResult(`importance-${name}`, await benchImportance(api)));
    if (want('quality')) console.log('wrote', writeResult(`quality-${name}`, await benchQuality(api, undefined, (l) => console.log(l))));
    if (want('latency')) console.log('wrote', writeResult(`latency-${name}`, await benchLatency(api)));
    if (want('preview')) console.log('wrote', writeResult(`preview-${name}`, await benchPreview(api)));
    if (want('iterative'))
      console.log('wrote', writeResult(`iterative-${name}`, await benchIterative(api, { log: (l) => console.log(l) })));
    if (want('quantize')) console.log('wrote', writeResult(`quantize-${name}`, await benchQuantize(api, runner, (l) => console.log(l))));
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
