/** A script (default e2e/harness/engine.ts) bundled for injection into a page of the built app (onnxruntime-web's wasm served by the app). */
import { build } from 'esbuild';

export async function engineHarnessBundle(entry = 'e2e/harness/engine.ts'): Promise<string> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    conditions: ['onnxruntime-web-use-extern-wasm'],
    logLevel: 'error',
  });
  return out.outputFiles[0]!.text;
}
