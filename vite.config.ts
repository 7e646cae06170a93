/**
 * Vite config: React app + module Worker, cross-origin isolated (COOP/COEP) so onnxruntime-web can
 * use WASM threads, and onnxruntime-web's .wasm/.mjs served by the app itself under /ort/ (no CDN):
 * the dev server streams them from node_modules, the build emits them into dist/ort/.
 * The worker passes `${base}ort/` to the web Runner as `wasmPaths`.
 */
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * The files onnxruntime-web loads at run time. The 'onnxruntime-web' entry the worker imports runs
 * both its WASM and WebGPU providers on the JSEP build (checked in Chromium with and without
 * WebGPU), so the plain build (another 14 MB) is not shipped.
 */
const ORT_FILES = ['ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'];

function ortDistDir(): string {
  const require = createRequire(import.meta.url);
  // The package's "exports" hide package.json; resolve a listed file instead.
  return path.dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
}

/** Serves (dev) and emits (build) onnxruntime-web's runtime files under `ort/`. */
function ortAssets(): Plugin {
  const dir = ortDistDir();
  return {
    name: 'prune-studio:ort-assets',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        const prefix = `${server.config.base}ort/`;
        if (!url.pathname.startsWith(prefix)) return next();
        const name = url.pathname.slice(prefix.length);
        if (!ORT_FILES.includes(name)) return next();
        const file = path.join(dir, name);
        res.setHeader('Content-Type', name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
        res.setHeader('Content-Length', String(statSync(file).size));
        for (const [k, v] of Object.entries(isolationHeaders)) res.setHeader(k, v);
        res.end(readFileSync(file));
      });
    },
    generateBundle() {
      for (const name of ORT_FILES) {
        this.emitFile({ type: 'asset', fileName: `ort/${name}`, source: readFileSync(path.join(dir, name)) });
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), ortAssets()],
  // The dev server pre-bundles the worker's dependencies too (else it finds them late and reloads the page).
  optimizeDeps: { entries: ['index.html', 'workers/*.worker.ts'], exclude: ['onnxruntime-web'] },
  // onnxruntime-web without its embedded glue module: it imports ort-wasm-*.mjs from `wasmPaths`
  // (dist/ort/) anyway, and the bundled variant would make Vite copy a second 28 MB .wasm into assets/.
  resolve: { conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions] },
  worker: { format: 'es' },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 2048,
    // The ort .wasm files are large; never inline them.
    assetsInlineLimit: 0,
  },
});
