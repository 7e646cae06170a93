#!/usr/bin/env node
// Regenerates src/io/onnx/onnx-proto.json, the protobufjs JSON descriptor of onnx.proto that
// src/io/onnx/proto.ts loads with Root.fromJSON (no .proto parsing at run time).
//
//   node tools/onnx/gen-proto-json.mjs [path/to/onnx.proto]
//
// Default source: Debian's python3-onnx (`/usr/bin/python3 -c "import onnx, os; print(os.path.dirname(onnx.__file__))"`).
// onnx.proto is Apache-2.0 (SPDX header kept in the JSON's "license" field); protobufjs ignores
// the extra top-level keys.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const OUT = 'src/io/onnx/onnx-proto.json';

function defaultProto() {
  const dir = execFileSync('/usr/bin/python3', ['-c', 'import onnx, os; print(os.path.dirname(onnx.__file__))'], {
    encoding: 'utf8',
  }).trim();
  return join(dir, 'onnx.proto');
}

function onnxVersion() {
  try {
    return execFileSync('/usr/bin/python3', ['-c', 'import onnx; print(onnx.__version__)'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const proto = process.argv[2] ?? defaultProto();
const text = readFileSync(proto, 'utf8');
const license = text
  .split('\n')
  .filter((l) => /SPDX-License-Identifier/.test(l))
  .map((l) => l.replace(/^\/\/\s*/, ''));
if (license.length === 0) throw new Error(`${proto} carries no SPDX license header; refusing to strip it silently.`);

const json = JSON.parse(
  execFileSync('npx', ['pbjs', '-t', 'json', '--keep-case', proto], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }),
);
const out = {
  license: [
    ...license,
    'Generated from onnx.proto of the ONNX project (https://github.com/onnx/onnx), Copyright ONNX Project Contributors, Apache-2.0.',
  ],
  source: `onnx.proto from python3-onnx ${onnxVersion()}, converted with protobufjs-cli (pbjs -t json --keep-case) by tools/onnx/gen-proto-json.mjs`,
  ...json,
};
writeFileSync(OUT, `${JSON.stringify(out, null, 1)}\n`);
console.log(`wrote ${OUT} from ${proto}`);
