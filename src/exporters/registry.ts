/**
 * Export format -> exporter, and the one write-then-verify step every export goes through.
 * Adding a format = one exporter file (write + verify) + one line in EXPORTERS; the format names
 * (EXPORT_FORMATS, the CLI's --format, the UI's list) follow from it.
 */
import { InputError } from '../core/errors';
import type { Runner } from '../core/runner';
import { quantMethod } from '../quantize/registry';
import { onnxExporter } from './onnx';
import { safetensorsExporter } from './safetensors';
import type { Exporter, ExportFile, ExportOptions, ExportProgress, ExportSubject, ExportVerification } from './types';

const EXPORTERS: readonly Exporter[] = [onnxExporter, safetensorsExporter];

export const EXPORT_FORMATS = EXPORTERS.map((e) => e.format);

/** Largest |Δlogit| a written model may show against its reference. */
export const EXPORT_TOLERANCE = 1e-3;

/** EXPORT_TOLERANCE for fp32; a quantized variant's own (src/quantize/methods). */
export function exportTolerance(dtype: ExportOptions['dtype']): number {
  return dtype === 'fp32' ? EXPORT_TOLERANCE : quantMethod(dtype).tolerance;
}

export function exporterFor(options: ExportOptions): Exporter {
  const e = EXPORTERS.find((x) => x.format === options.format);
  if (!e) throw new InputError(`Unknown export format "${options.format}".`, `Export formats: ${EXPORT_FORMATS.join(', ')}.`);
  if (!e.dtypes.includes(options.dtype)) throw new InputError(`${e.label} export supports ${e.dtypes.join(', ')}, not "${options.dtype}".`);
  return e;
}

export interface VerifiedFiles {
  exporter: Exporter;
  files: ExportFile[];
  verification: ExportVerification;
}

/** Writes the model files, re-loads them through the runner and refuses a model that differs from the reference. */
export async function writeVerified(
  options: ExportOptions,
  subject: ExportSubject,
  runner: Runner,
  onProgress?: ExportProgress,
): Promise<VerifiedFiles> {
  const exporter = exporterFor(options);
  onProgress?.({ stage: 'export', done: 0, total: 2, message: `Writing ${exporter.label}` });
  const files = exporter.writeAsync ? await exporter.writeAsync(subject, options, runner) : exporter.write(subject.ir, options);
  onProgress?.({ stage: 'export', done: 1, total: 2, message: 'Re-opening the export and checking it against the preview' });
  const verification = await exporter.verify(files, subject, runner);
  // a parked written file is read back (api/written-file.ts)
  const host = subject.written;
  const kept = host ? files.map((f) => ({ ...f, bytes: host.restore(f.bytes) })) : files;
  refuseUnverified(verification, options.dtype);
  return { exporter, files: kept, verification };
}

/** Throws when the written model's logits are not within the dtype's tolerance of the reference. */
export function refuseUnverified(verification: ExportVerification, dtype: ExportOptions['dtype']): void {
  if (!(verification.maxAbsLogitDiff < exportTolerance(dtype))) {
    throw new InputError(
      `The exported model differs from the preview (max |Δlogit| = ${verification.maxAbsLogitDiff.toExponential(2)}).`,
      'This is a bug in Prune Studio; please report it with the plan file.',
    );
  }
}
