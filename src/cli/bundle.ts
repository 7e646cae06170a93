/** Writes the applied model's verified export bundle (StudioApi.exportModel) to a folder; the summary fields every command prints. */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../core/errors';
import { EXPORT_FORMATS, type ExportFormat, type ExportOptions, type StudioApi } from '../api';
import { quantMethod } from '../api';
import { stringFlag, type ParsedArgs } from './args';

/** --format onnx (default) | safetensors; --quantize fp16|int8|int4-rtn|int4-gptq (ONNX only; default fp32); --int4-symmetric (int4: zero point 8). */
export function exportRequest(args: ParsedArgs): ExportOptions {
  const format = stringFlag(args, 'format', 'onnx') as ExportFormat;
  if (!EXPORT_FORMATS.includes(format)) throw new InputError(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got "${format}".`);
  const quantize = stringFlag(args, 'quantize', 'fp32');
  if (quantize !== 'fp32') quantMethod(quantize);
  if (quantize !== 'fp32' && format !== 'onnx')
    throw new InputError(
      `--quantize ${quantize} writes ONNX (MatMulNBits / MatMulInteger); ${format} is written in fp32 only.`,
      'Drop --format or --quantize.',
    );
  const int4Symmetric = args.flags.get('int4-symmetric') === true;
  if (int4Symmetric && !quantize.startsWith('int4'))
    throw new InputError(`--int4-symmetric applies to int4-rtn / int4-gptq, not --quantize ${quantize}.`, 'Drop --int4-symmetric.');
  return { format, dtype: quantize as ExportOptions['dtype'], ...(int4Symmetric ? { int4Symmetric } : {}) };
}

export async function writeBundle(api: StudioApi, out: string, request: ExportOptions) {
  const bundle = await api.exportModel(request);
  mkdirSync(out, { recursive: true });
  // Each file goes to a temporary name first, then is renamed: no half-written file under its real
  // name. Names may hold a folder (onnx/model.onnx, the transformers.js layout).
  // a file the engine kept in storage (ExportBundle.stored: only where the host gives an export store) is read from there
  const stored = await Promise.all(
    (bundle.stored ?? []).map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.blob.arrayBuffer()) })),
  );
  const files = [...stored, ...bundle.files];
  for (const f of files) {
    const target = join(out, f.name);
    mkdirSync(dirname(target), { recursive: true });
    const tmp = join(dirname(target), `.${basename(target)}.partial-${process.pid}`);
    writeFileSync(tmp, f.bytes);
    renameSync(tmp, target);
  }
  return { out, files: files.map((f) => ({ name: f.name, bytes: f.bytes.length })), verification: bundle.verification };
}
