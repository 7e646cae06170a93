#!/usr/bin/env node
/**
 * Tiny dependency-free static server for the built app (dist/), used by `npm start` and the e2e tests.
 * Every response is cross-origin isolated (COOP/COEP, so WASM threads work), uncompressed, with the
 * MIME types onnxruntime-web needs; unknown paths without a file extension fall back to index.html.
 * Usage: node tools/serve.mjs [dir=dist] [port]   (or PORT=4173). Prints the URL.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';

const args = process.argv.slice(2);
const root = path.resolve(args.find((a) => !/^\d+$/.test(a)) ?? 'dist');
const port = Number(args.find((a) => /^\d+$/.test(a)) ?? process.env.PORT ?? 4173);
const host = process.env.HOST ?? '127.0.0.1';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.model': 'application/octet-stream',
};

const HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
};

function fileAt(urlPath) {
  let rel;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  const full = path.resolve(root, `.${rel}`);
  if (full !== root && !full.startsWith(root + path.sep)) return undefined;
  try {
    const st = statSync(full);
    if (st.isDirectory()) {
      const index = path.join(full, 'index.html');
      return statSync(index).isFile() ? { file: index, size: statSync(index).size } : undefined;
    }
    return st.isFile() ? { file: full, size: st.size } : undefined;
  } catch {
    return undefined;
  }
}

const server = createServer((req, res) => {
  for (const [k, v] of Object.entries(HEADERS)) res.setHeader(k, v);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  const urlPath = new URL(req.url ?? '/', 'http://localhost').pathname;
  let found = fileAt(urlPath);
  // SPA fallback: only for page-like paths, so a missing model file is a real 404.
  if (!found && path.extname(urlPath) === '') found = fileAt('/index.html');
  if (!found) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`Not found: ${urlPath}\n`);
    return;
  }
  const ext = path.extname(found.file).toLowerCase();
  res.writeHead(200, {
    'Content-Type': MIME[ext] ?? 'application/octet-stream',
    'Content-Length': String(found.size),
    'Cache-Control': ext === '.html' ? 'no-cache' : 'public, max-age=0, must-revalidate',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(found.file)
    .on('error', () => res.destroy())
    .pipe(res);
});

server.listen(port, host, () => {
  console.log(
    `Prune Studio: serving ${path.relative(process.cwd(), root) || '.'} at http://${host === '0.0.0.0' ? 'localhost' : host}:${port}/`,
  );
});

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
