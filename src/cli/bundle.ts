/** Writes the applied model's verified export bundle (StudioApi.exportModel) to a folder; the summary fields every command prints. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError } from '../core/errors';
import { EXPORT_FORMATS, type ExportFormat, type ExportOptions, type StudioApi } from '../api';
import { stringFlag, type ParsedArgs } from './args';

/** --format onnx (default) | safetensors. */
export function exportRequest(args: ParsedArgs): ExportOptions {
  const format = stringFlag(args, 'format', 'onnx') as ExportFormat;
  if (!EXPORT_FORMATS.includes(format)) throw new InputError(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got "${format}".`);
  return { format, dtype: 'fp32' };
}

export async function writeBundle(api: StudioApi, out: string, request: ExportOptions) {
  const bundle = await api.exportModel(request);
  mkdirSync(out, { recursive: true });
  for (const f of bundle.files) {
    // Names may hold a folder (onnx/model.onnx, the transformers.js layout).
    mkdirSync(dirname(join(out, f.name)), { recursive: true });
    writeFileSync(join(out, f.name), f.bytes);
  }
  return { out, files: bundle.files.map((f) => ({ name: f.name, bytes: f.bytes.length })), verification: bundle.verification };
}
