/**
 * safetensors exporter: the model's tensors in its family's checkpoint names and layout
 * (FamilyAdapter.toTensors, F32) as `model.safetensors`, for PyTorch / Hugging Face users.
 * Verified by re-reading the written bytes through the same family adapter (fromTensors checks
 * every shape), building the logits graph of what was read, and comparing it with the reference.
 */
import { adapterFor } from '../arch/registry';
import { exportSafetensors } from '../arch/load';
import { parseSafetensors } from '../io/safetensors';
import { logitsOnnx } from './onnx';
import type { Exporter, ExportFile } from './types';
import { compareWithReference } from './verify';

const FILE = 'model.safetensors';

export const safetensorsExporter: Exporter = {
  format: 'safetensors',
  label: 'safetensors',
  what: 'model.safetensors: the weights under the family checkpoint names (F32), for PyTorch / transformers.',
  dtypes: ['fp32'],
  cardLine:
    '`model.safetensors`: F32 weights under the original checkpoint names; per-layer head counts and FFN widths in `config.json` (`prune_studio.layers`).',
  write: (ir): ExportFile[] => [{ name: FILE, bytes: exportSafetensors(ir) }],
  async verify(files, subject, runner) {
    const file = parseSafetensors(files[0]!.bytes);
    const get = (name: string) => (file.header.has(name) ? file.getFloat32(name) : undefined);
    const { ir } = subject;
    const reread = adapterFor(ir.spec).fromTensors(ir.spec, ir.layers, get, ir.name, FILE);
    return compareWithReference(logitsOnnx(reread), subject, runner);
  },
};
