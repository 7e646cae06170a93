/**
 * `node --import ./bench/ort-web-browser-build.mjs`: `onnxruntime-web` resolves to its browser build
 * (dist/ort.min.mjs: WebGPU + WASM, the wasm files beside it) instead of the Node build (WASM only),
 * for the scale bench's node-webgpu backend (bench/webgpu-node.ts installs Dawn as navigator.gpu).
 */
import { register } from 'node:module';

register('./ort-web-browser-build-hooks.mjs', import.meta.url);
