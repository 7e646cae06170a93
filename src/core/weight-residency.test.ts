/**
 * Spilled weights (core/weight-residency.ts) on a random GPT-2 with an in-memory store: every tensor
 * reads back bit for bit after eviction, resident bytes stay within the budget while all tensors are
 * read in turn, arrays shared by two tensors are stored and restored once, and disposal either
 * restores plain tensors or makes later reads fail clearly.
 */
import { describe, expect, it } from 'vitest';
import { memoryGramStore, type GramStore } from './gram-store';
import { tensor, type Tensor } from './tensor';
import {
  defaultResidentBudget,
  freeScratch,
  isSpilled,
  spilledCopy,
  spilledLazyBytes,
  spillWeights,
  tensorRows,
  tensorsUnder,
  weightsSpilled,
  type ScratchBuffer,
} from './weight-residency';
import { randomIR } from '../test-util/random-ir';
import { collectGarbage } from '../cli/collect-garbage';
import { buildOnnx } from '../graph/build';
import type { ModelIR } from './ir';

const model = (): ModelIR => randomIR({ layers: 3, hidden: 16, heads: 4, ffn: 64, vocab: 50 });

/** Copies of every tensor's values, in tensorsUnder order. */
function snapshot(ir: ModelIR): Float32Array[] {
  return [...tensorsUnder(ir.weights)].map((t) => t.data.slice());
}

function countingStore(): GramStore & { puts: number; gets: number } {
  const inner = memoryGramStore();
  const s = {
    where: 'memory',
    puts: 0,
    gets: 0,
    put: (k: string, v: Float32Array) => (s.puts++, inner.put(k, v)),
    get: (k: string) => (s.gets++, inner.get(k)),
    drop: (k: string) => inner.drop(k),
    dispose: () => inner.dispose(),
  };
  return s;
}

describe('spilled weights', () => {
  it('writes the same ONNX bytes spilled, reading the projection matrices into one scratch instead of new resident arrays', async () => {
    const ir = model();
    const plain = buildOnnx(ir, { logits: true });
    const inner = memoryGramStore();
    let gets = 0;
    const store: GramStore = { ...inner, get: (k) => (gets++, inner.get(k)) };
    const r = spillWeights(ir, store);
    r.trim(0);
    const spilledBytes = buildOnnx(ir, { logits: true });
    expect(Buffer.from(spilledBytes).equals(Buffer.from(plain))).toBe(true);
    // only the small tensors (norms, biases, positions) come back whole; the block matrices do not
    const matrices = ir.layers.length * 4;
    expect(gets).toBeLessThan([...tensorsUnder(ir.weights)].length - matrices);
    await r.dispose();
  });

  it('lets the collector take an evicted array once nothing else holds it', async () => {
    const ir = model();
    const originals = [...tensorsUnder(ir.weights)].map((t) => new WeakRef(t.data));
    const r = spillWeights(ir, memoryGramStore());
    // evicted without release (the LRU's own evictions): the arrays are dropped, not detached
    r.trim(0);
    // a WeakRef holds its target until the current job ends
    await new Promise((done) => setTimeout(done, 0));
    collectGarbage();
    const alive = originals.filter((w) => w.deref() !== undefined).length;
    expect(alive).toBe(0);
    await r.dispose();
  });

  it('read back bit for bit after every array was evicted', async () => {
    const ir = model();
    const before = snapshot(ir);
    const r = spillWeights(ir, memoryGramStore());
    expect(weightsSpilled(ir)).toBe(true);
    r.trim(0);
    expect(r.residentBytes()).toBe(0);
    const after = snapshot(ir);
    expect(after.length).toBe(before.length);
    after.forEach((a, i) => expect(Buffer.from(a.buffer).equals(Buffer.from(before[i]!.buffer))).toBe(true));
    expect(r.reads()).toBeGreaterThan(0);
    await r.dispose();
  });

  it('keep at most the budget (besides the array being read) while every tensor is read in turn', async () => {
    const ir = model();
    const tensors = [...tensorsUnder(ir.weights)];
    const largest = Math.max(...tensors.map((t) => t.data.byteLength));
    const r = spillWeights(ir, memoryGramStore(), { budgetBytes: 2 * largest });
    r.trim(0);
    let peak = 0;
    for (let pass = 0; pass < 2; pass++)
      for (const t of tensors) {
        expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
        peak = Math.max(peak, r.residentBytes());
      }
    expect(peak).toBeLessThanOrEqual(2 * largest);
    expect(peak).toBeGreaterThan(0);
    // the whole model does not fit the budget, so the second pass read arrays again
    expect(r.reads()).toBeGreaterThan(tensors.length);
    await r.dispose();
  });

  it('use the resident array without reading the store again', async () => {
    const ir = model();
    const store = countingStore();
    const r = spillWeights(ir, store, { budgetBytes: Infinity });
    const t = ir.weights.tokenEmbedding!;
    expect(t.data).toBe(t.data);
    expect(store.gets).toBe(0);
    r.trim(0);
    const a = t.data;
    expect(t.data).toBe(a);
    expect(store.gets).toBe(1);
    await r.dispose();
  });

  it('store an array two tensors share once, and give both the one restored array', async () => {
    const ir = model();
    const emb = ir.weights.tokenEmbedding!;
    (ir.weights as { lmHead?: Tensor }).lmHead = tensor(emb.shape, emb.data);
    const store = countingStore();
    const distinct = new Set([...tensorsUnder(ir.weights)].map((t) => t.data)).size;
    const r = spillWeights(ir, store);
    expect(store.puts).toBe(distinct);
    r.trim(0);
    expect(ir.weights.lmHead!.data).toBe(emb.data);
    await r.dispose();
  });

  it('give a copy for a session alone, without keeping it resident', async () => {
    const ir = model();
    const emb = ir.weights.tokenEmbedding!;
    const values = emb.data.slice();
    const r = spillWeights(ir, memoryGramStore());
    r.trim(0);
    const copy = spilledCopy(emb)!;
    expect(copy).toEqual(values);
    expect(r.residentBytes()).toBe(0);
    expect(copy).not.toBe(emb.data);
    expect(spilledCopy(model().weights.tokenEmbedding!)).toBeUndefined();
    await r.dispose();
  });

  it('stream lazily through one reused buffer, with the right bytes at each read', async () => {
    const ir = model();
    const [a, b] = [ir.weights.layers[0]!.up.weight, ir.weights.layers[1]!.up.weight];
    const [va, vb] = [a.data.slice(), b.data.slice()];
    const r = spillWeights(ir, memoryGramStore());
    r.trim(0);
    const scratch: ScratchBuffer = {};
    const [la, lb] = [spilledLazyBytes(a, scratch)!, spilledLazyBytes(b, scratch)!];
    expect([la.length, la.byteLength]).toEqual([0, va.byteLength]);
    const ra = la.subarray(0, la.byteLength);
    expect(new Float32Array(ra.slice().buffer)).toEqual(va);
    const rb = lb.subarray(0, lb.byteLength);
    expect(rb.buffer).toBe(ra.buffer);
    expect(new Float32Array(rb.slice().buffer)).toEqual(vb);
    expect(r.residentBytes()).toBe(0);
    await r.dispose();
  });

  it('free evicted buffers at once when released (ArrayBuffer transfer), whole buffers only', async () => {
    const ir = model();
    const whole = ir.weights.tokenEmbedding!;
    const view = tensor([4], new Float32Array(16).subarray(4, 8));
    (ir.weights.layers[0]!.attnNorm as { weight: Tensor }).weight = view;
    const transfers: string[] = [];
    const watch = (t: Tensor, name: string) => {
      const b = t.data.buffer as ArrayBuffer & { transfer?: (n: number) => ArrayBuffer };
      b.transfer = (n) => (transfers.push(name), new ArrayBuffer(n));
    };
    watch(whole, 'whole');
    watch(view, 'view');
    const r = spillWeights(ir, memoryGramStore(), { budgetBytes: Infinity });
    r.trim(0, true);
    // the view's buffer is not its own: left to the collector
    expect(transfers).toEqual(['whole']);
    watch(whole, 'whole');
    r.trim(0);
    expect(transfers).toEqual(['whole']);
    expect(whole.data.length).toBe(whole.shape.reduce((a, b) => a * b, 1));
    await r.dispose();
  });

  it('become plain tensors with the same values on dispose(true), unreadable on dispose()', async () => {
    const ir = model();
    const before = snapshot(ir);
    const r = spillWeights(ir, memoryGramStore());
    r.trim(0);
    await r.dispose(true);
    expect(weightsSpilled(ir)).toBe(false);
    snapshot(ir).forEach((a, i) => expect(a).toEqual(before[i]));
    const other = model();
    const r2 = spillWeights(other, memoryGramStore());
    await r2.dispose();
    expect(isSpilled(other.weights.tokenEmbedding!)).toBe(true);
    expect(() => other.weights.tokenEmbedding!.data).toThrow(/released.*reload the model/);
  });

  it('default to the largest array plus an eighth of the rest', () => {
    expect(defaultResidentBudget([800, 100, 100])).toBe(800 + 125);
    // arrays read by rows count in the eighth only
    expect(defaultResidentBudget([100, 100], [800])).toBe(100 + 125);
  });

  it('read rows of an evicted matrix alone, bit for bit, without making it resident', async () => {
    const ir = model();
    const table = ir.weights.tokenEmbedding!;
    const [vocab, d] = table.shape as [number, number];
    const before = table.data.slice();
    const store = memoryGramStore();
    const r = spillWeights(ir, store, { byRows: [table] });
    const largestOther = Math.max(...[...tensorsUnder(ir.weights)].filter((t) => t !== table).map((t) => 4 * t.data.length));
    expect(r.budgetBytes).toBe(largestOther + Math.ceil(r.totalBytes / 8));
    r.trim(0);
    const rows = tensorRows(table, 7, 12);
    expect(rows.length).toBe(5 * d);
    expect(Buffer.from(rows.buffer).equals(Buffer.from(before.slice(7 * d, 12 * d).buffer))).toBe(true);
    expect(r.residentBytes()).toBe(0);
    expect(tensorRows(table, vocab - 1, vocab)).toEqual(before.slice((vocab - 1) * d));
    expect(() => tensorRows(table, vocab - 1, vocab + 1)).toThrow(RangeError);
    // a resident matrix gives views of its array
    const whole = table.data;
    expect(tensorRows(table, 2, 3).buffer).toBe(whole.buffer);
    await r.dispose();
  });
});

describe('freeScratch', () => {
  it('drops the scratch buffer, detaching it where ArrayBuffer.prototype.transfer exists, and leaves later reads working', async () => {
    const store = memoryGramStore();
    const t = tensor(
      [4, 3],
      Float32Array.from({ length: 12 }, (_, i) => i + 0.5),
    );
    const ir = { weights: { t } } as unknown as ModelIR;
    const r = spillWeights(ir, store, { budgetBytes: 0 });
    r.trim(0);
    const scratch: ScratchBuffer = {};
    expect([...tensorRows(t, 1, 2, scratch)]).toEqual([3.5, 4.5, 5.5]);
    const held = scratch.buffer!;
    expect(held.byteLength).toBeGreaterThanOrEqual(12);
    freeScratch(scratch);
    expect(scratch.buffer).toBeUndefined();
    if (typeof (held as ArrayBuffer & { transfer?: unknown }).transfer === 'function') expect(held.byteLength).toBe(0);
    expect([...tensorRows(t, 3, 4, scratch)]).toEqual([9.5, 10.5, 11.5]);
    freeScratch(scratch);
    freeScratch(scratch);
    await r.dispose();
  });
});
