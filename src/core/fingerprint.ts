/**
 * A cheap identity for a model's weights: FNV-1a over the architecture, every tensor's shape and a
 * strided sample of its values (about 4,096 per tensor), so two checkpoints with the same name and
 * shapes but other weights get other fingerprints. Used to key cached results, not for security.
 */
import type { ModelIR } from './ir';
import type { Tensor } from './tensor';

const SAMPLES_PER_TENSOR = 4096;

function fnv1a(h: number, bytes: Uint8Array): number {
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

function tensors(ir: ModelIR): Tensor[] {
  const w = ir.weights;
  const out: (Tensor | undefined)[] = [w.tokenEmbedding, w.positionEmbedding, w.lmHead, w.finalNorm.weight, w.finalNorm.bias];
  for (const l of w.layers) {
    out.push(l.attnNorm.weight, l.attnNorm.bias, l.mlpNorm.weight, l.mlpNorm.bias);
    for (const lin of [l.q, l.k, l.v, l.o, l.up, l.gate, l.down]) out.push(lin?.weight, lin?.bias);
  }
  // Patch-input models only (absent from decoders, so their fingerprints are unchanged).
  out.push(w.patchEmbedding?.weight, w.patchEmbedding?.bias, w.clsToken, w.lmHeadBias);
  return out.filter((t): t is Tensor => t !== undefined);
}

export function modelFingerprint(ir: ModelIR): string {
  const text = new TextEncoder();
  let h = fnv1a(0x811c9dc5, text.encode(JSON.stringify({ spec: ir.spec, layers: ir.layers })));
  for (const t of tensors(ir)) {
    h = fnv1a(h, text.encode(t.shape.join('x')));
    const step = Math.max(1, Math.floor(t.data.length / SAMPLES_PER_TENSOR));
    const sample = new Float32Array(Math.ceil(t.data.length / step));
    for (let i = 0, j = 0; i < t.data.length; i += step, j++) sample[j] = t.data[i]!;
    h = fnv1a(h, new Uint8Array(sample.buffer));
  }
  return h.toString(16).padStart(8, '0');
}
