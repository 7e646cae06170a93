/** Module resolution hook (registered by ort-web-browser-build.mjs): `onnxruntime-web` -> dist/ort.min.mjs. */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
const browserBuild = pathToFileURL(join(dist, 'ort.min.mjs')).href;

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'onnxruntime-web') return { url: browserBuild, shortCircuit: true, format: 'module' };
  return nextResolve(specifier, context);
}
