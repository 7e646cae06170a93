/**
 * Non-resident weights: a large model's arrays written once to a store on disk (a GramStore: Node a
 * temp file, the engine Worker OPFS) and held in memory only while used. Each tensor object keeps its
 * identity; its `data` becomes a getter that returns the array when resident and reads it back from
 * the store when not. Resident arrays stay within a byte budget, least recently used evicted first
 * when a read-back would exceed it (an array evicted while a caller still holds it stays valid for
 * that caller; the next `data` reads a fresh copy). So block-by-block work (perplexity, calibration,
 * criteria, SlimGPT) holds about one block's weights besides the budget, and a whole-model session
 * that embeds the weights (generation, latency) gets copies that are not kept (`spilledCopy`): it
 * holds them once, in its engine.
 * Tensors sharing one array (tied embeddings) share one slot. The IR's arrays are never written in
 * place (every change makes new tensors), so the store's copy stays the truth; values come back bit
 * for bit.
 */
import type { GramStore, StoredBytes } from './gram-store';
import { LazyBytes } from './lazy-bytes';
import type { ModelIR } from './ir';
import type { Tensor } from './tensor';

interface Slot {
  store: GramStore;
  /** Read-backs of this slot's residency (shared by its slots). */
  stats: { reads: number };
  key: string;
  length: number;
  cache: Float32Array | null;
  lastUse: number;
}

export interface WeightResidency {
  readonly where: string;
  /** Bytes of all spilled arrays. */
  readonly totalBytes: number;
  readonly budgetBytes: number;
  residentBytes(): number;
  /** Read-backs from the store so far. */
  reads(): number;
  /**
   * Evicts least recently used arrays until at most `toBytes` (default the budget) stay resident.
   * `release`: the caller knows nobody holds them (a quiet point between jobs), so their buffers are
   * detached where the platform can (ArrayBuffer.prototype.transfer, e.g. a browser); a holder would
   * see an empty array. (Measured in Chromium 156: a detached buffer's memory still waits for the
   * realm's next garbage collection, as a dropped one does; a busy engine Worker has one soon.)
   */
  trim(toBytes?: number, release?: boolean): void;
  /**
   * Deletes the store. With `restore`, every tensor gets its array back first (plain again); without,
   * the model is being dropped and a later read throws.
   */
  dispose(restore?: boolean): Promise<void>;
}

/** The slot of every spilled tensor. */
const spilled = new WeakMap<object, Slot>();
let clock = 0;

/** Whether `t` is a spilled tensor (its `data` is a getter that may read from a store). */
export function isSpilled(t: object): boolean {
  return spilled.has(t);
}

/** Whether a spilled tensor's array is in memory now (a plain tensor's always is). */
export function isResident(t: object): boolean {
  const slot = spilled.get(t);
  return !slot || slot.cache !== null;
}

/**
 * What identifies `t`'s array without reading it: its slot when spilled (tensors sharing an array
 * share a slot), else the array itself. Graph builders key weight inputs by it.
 */
export function storageIdentity(t: Tensor): object {
  return spilled.get(t) ?? t.data;
}

/**
 * A copy of a spilled tensor's values read from its store for the caller alone (not kept resident,
 * so the caller may hand its buffer away, e.g. transfer it to another thread); undefined when `t` is
 * not spilled.
 */
export function spilledCopy(t: Tensor): Float32Array | undefined {
  const slot = spilled.get(t);
  return slot && (slot.cache ? slot.cache.slice() : readSlot(slot, undefined));
}

/**
 * A spilled tensor's bytes read from its store only when a runner asks (core/lazy-bytes.ts), without
 * becoming resident; undefined when `t` is not spilled.
 */
export function spilledLazyBytes(t: Tensor, scratch?: ScratchBuffer): LazyBytes | undefined {
  const slot = spilled.get(t);
  if (!slot) return undefined;
  const read = () => {
    const values = slot.cache ?? readSlot(slot, scratch);
    return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  };
  return new LazyBytes(4 * slot.length, read);
}

/**
 * One buffer that successive reads reuse (for a reader that is done with each read before the next:
 * onnxruntime-web copies each external tensor into its heap at once), so streaming a model into a
 * session makes no garbage, which a browser may collect late.
 */
export interface ScratchBuffer {
  buffer?: ArrayBuffer;
  /** Who read into the buffer last (a reader that keeps values across calls checks it is still theirs). */
  owner?: object;
}

/** The scratch's buffer, grown to at least `bytes` (a fresh one only when it is too small). */
export function scratchOf(scratch: ScratchBuffer, bytes: number): ArrayBuffer {
  if (!scratch.buffer || scratch.buffer.byteLength < bytes) scratch.buffer = new ArrayBuffer(bytes);
  return scratch.buffer;
}

/**
 * Lets a scratch buffer go once its reader is done (detached with ArrayBuffer.transfer(0) where the
 * platform has it, so nothing can read it again): a session open that read a vocabulary matrix
 * through it would otherwise keep that matrix's size for as long as the scratch is referenced. Its
 * memory goes back at the realm's next garbage collection (measured in Chromium: detaching does not
 * return it sooner).
 */
export function freeScratch(scratch: ScratchBuffer): void {
  const buffer = scratch.buffer as (ArrayBuffer & { transfer?: (n: number) => ArrayBuffer; detached?: boolean }) | undefined;
  scratch.buffer = undefined;
  if (buffer && typeof buffer.transfer === 'function' && buffer.detached !== true) buffer.transfer(0);
}

function readSlot(slot: Slot, scratch: ScratchBuffer | undefined): Float32Array {
  slot.stats.reads++;
  if (!scratch || !slot.store.readInto) return slot.store.get(slot.key);
  const into = new Float32Array(scratchOf(scratch, 4 * slot.length), 0, slot.length);
  slot.store.readInto(slot.key, into);
  return into;
}

/**
 * Rows r0..r1 of a matrix `t` (row-major, rows along its first axis): a view of its array when it is
 * plain or resident, else those rows alone read from the store (the rest not made resident: a
 * vocabulary matrix read a chunk or a token at a time), or the whole array read back when the store
 * reads no ranges. The caller does not write the result. With `scratch`, rows read from the store go
 * into its buffer (no garbage; valid until the next read into it).
 */
export function tensorRows(t: Tensor, r0: number, r1: number, scratch?: ScratchBuffer): Float32Array {
  const width = t.shape.slice(1).reduce((a, b) => a * b, 1);
  const slot = spilled.get(t);
  if (!slot || slot.cache || !slot.store.readBytes) return t.data.subarray(r0 * width, r1 * width);
  if (r0 < 0 || r1 < r0 || r1 * width > slot.length) throw new RangeError(`rows ${r0}..${r1} are outside a [${t.shape.join(', ')}] tensor`);
  const n = (r1 - r0) * width;
  const out = scratch ? new Float32Array(scratchOf(scratch, 4 * n), 0, n) : new Float32Array(n);
  slot.store.readBytes(slot.key, 4 * r0 * width, new Uint8Array(out.buffer, 0, 4 * n));
  return out;
}

/**
 * `t`'s values without making a spilled tensor resident: its own array when plain or resident, else
 * read from its store into `into` (`into.length` values; no new array where the store reads into a
 * given one). The caller does not write the result.
 */
export function valuesInto(t: Tensor, into: Float32Array): Float32Array {
  const slot = spilled.get(t);
  if (!slot || slot.cache) return t.data;
  if (into.length !== slot.length) throw new RangeError(`${into.length} values cannot hold a tensor of ${slot.length}`);
  slot.stats.reads++;
  if (!slot.store.readInto) return slot.store.get(slot.key);
  slot.store.readInto(slot.key, into);
  return into;
}

/** `t`'s values without making a spilled tensor resident, read through `scratch` (valid until its next read). */
export function valuesThrough(t: Tensor, scratch: ScratchBuffer): Float32Array {
  const slot = spilled.get(t);
  return slot && !slot.cache ? readSlot(slot, scratch) : t.data;
}

/** Where a spilled tensor's values lie in a file other threads can read (GramStore.locate); else undefined. */
export function spilledLocation(t: Tensor): StoredBytes | undefined {
  const slot = spilled.get(t);
  return slot && slot.store.locate?.(slot.key);
}

/** How many values `t` holds, without reading a spilled tensor's array. */
export function valueCount(t: Tensor): number {
  return spilled.get(t)?.length ?? t.data.length;
}

/** Every tensor object under `root` (each once), found without reading a spilled tensor's data. */
export function tensorsUnder(root: unknown): Set<Tensor> {
  const found = new Set<Tensor>();
  const visit = (v: unknown): void => {
    if (!v || typeof v !== 'object' || ArrayBuffer.isView(v)) return;
    const o = v as Record<string, unknown>;
    if (spilled.has(o) || ('data' in o && o.data instanceof Float32Array && Array.isArray(o.shape))) {
      found.add(o as unknown as Tensor);
      return;
    }
    for (const x of Array.isArray(v) ? v : Object.values(o)) visit(x);
  };
  visit(root);
  return found;
}

/**
 * Default budget: the largest array read whole plus an eighth of all (a block or two besides).
 * `byRows`: the bytes of arrays read only by rows (tensorRows: the vocabulary matrices of a model
 * whose head runs in chunks), which count in the eighth but are never held whole.
 */
export function defaultResidentBudget(arrayBytes: readonly number[], byRows: readonly number[] = []): number {
  const total = [...arrayBytes, ...byRows].reduce((a, b) => a + b, 0);
  return Math.max(...arrayBytes, 0) + Math.ceil(total / 8);
}

export interface SpillOptions {
  /** Resident bytes at most (default defaultResidentBudget). */
  budgetBytes?: number;
  /** Tensors read by rows only (tensorRows), left out of the default budget's largest array. */
  byRows?: readonly Tensor[];
}

/**
 * Writes every weight array of `ir` to `store` and turns its tensors into spilled ones, in place.
 * The arrays stay resident (within the budget) until evicted. Throws what the store throws on a
 * failed write, leaving the tensors as they were.
 */
export function spillWeights(ir: ModelIR, store: GramStore, options: SpillOptions = {}): WeightResidency {
  const residency = openSpill(ir.name, store, options);
  residency.add(ir.weights);
  return residency;
}

/** A residency that more tensors can join (a model made layer by layer: each layer spilled when made). */
export interface GrowingResidency extends WeightResidency {
  /**
   * Spills the tensors under `root` not spilled yet (one slot per array; tied tensors share it) into
   * this residency's store, in place; the default budget grows with them. They stay resident until
   * evicted (trim). Throws what the store throws on a failed write, leaving those tensors as they were.
   */
  add(root: unknown): void;
}

/** An empty residency over `store` for the weights of the model `name` (spillWeights adds a whole model at once). */
export function openSpill(name: string, store: GramStore, options: SpillOptions = {}): GrowingResidency {
  const slots: Slot[] = [];
  const tensorSlots = new Map<Tensor, Slot>();
  const stats = { reads: 0 };
  const rowTensors = new Set(options.byRows ?? []);
  const rowSlots = new Set<Slot>();
  let totalBytes = 0;
  let budget = options.budgetBytes ?? 0;
  let resident = 0;
  let disposed = false;
  const bytesOf = (list: Slot[]) => list.map((s) => 4 * s.length);
  const rebudget = () => {
    if (options.budgetBytes !== undefined) return;
    budget = defaultResidentBudget(bytesOf(slots.filter((s) => !rowSlots.has(s))), bytesOf(slots.filter((s) => rowSlots.has(s))));
  };
  const evictDownTo = (limit: number, keep?: Slot, release = false) => {
    if (resident <= limit) return;
    const order = slots.filter((s) => s.cache && s !== keep).sort((a, b) => a.lastUse - b.lastUse);
    for (const s of order) {
      if (resident <= limit) break;
      if (release) releaseNow(s.cache!);
      s.cache = null;
      resident -= 4 * s.length;
    }
  };
  const read = (s: Slot): Float32Array => {
    s.lastUse = ++clock;
    if (s.cache) return s.cache;
    const values = store.get(s.key);
    stats.reads++;
    resident += 4 * s.length;
    s.cache = values;
    evictDownTo(budget, s);
    return values;
  };
  const add = (root: unknown) => {
    if (disposed) throw new Error(`The weights of ${name} were released (${store.where} deleted); reload the model.`);
    const tensors = [...tensorsUnder(root)].filter((t) => !spilled.has(t));
    // the map's keys are the original arrays; it is local to this call, so no closure below keeps it
    // (measured in Node 20, which cannot detach them: a map kept in the getters' scope held every
    // evicted array, gpt2-124m 408 MB past its resident budget)
    const slotOf = new Map<Float32Array, Slot>();
    for (const t of tensors) {
      if (slotOf.has(t.data)) continue;
      const key = `w${slots.length + slotOf.size}`;
      store.put(key, t.data);
      slotOf.set(t.data, { store, stats, key, length: t.data.length, cache: t.data, lastUse: ++clock });
    }
    for (const slot of slotOf.values()) {
      slots.push(slot);
      totalBytes += 4 * slot.length;
      resident += 4 * slot.length;
    }
    for (const t of tensors) {
      const slot = slotOf.get(t.data)!;
      if (rowTensors.has(t)) rowSlots.add(slot);
      tensorSlots.set(t, slot);
      defineSpilled(t, slot, read);
    }
    for (const t of rowTensors) {
      const slot = spilled.get(t);
      if (slot && slots.includes(slot)) rowSlots.add(slot);
    }
    slotOf.clear();
    rebudget();
  };
  return {
    where: store.where,
    get totalBytes() {
      return totalBytes;
    },
    get budgetBytes() {
      return budget;
    },
    residentBytes: () => resident,
    reads: () => stats.reads,
    trim: (toBytes = budget, release = false) => evictDownTo(toBytes, undefined, release),
    add,
    async dispose(restore = false) {
      if (disposed) return;
      disposed = true;
      for (const [t, slot] of tensorSlots) {
        // restoring: no eviction (tied tensors get the one array); else a read now fails clearly
        const data = restore ? (slot.cache ??= store.get(slot.key)) : null;
        const get = () => {
          throw new Error(`The weights of ${name} were released (${store.where} deleted); reload the model.`);
        };
        Object.defineProperty(
          t,
          'data',
          data ? { value: data, writable: true, enumerable: true, configurable: true } : { get, configurable: true },
        );
        if (data) spilled.delete(t);
      }
      for (const s of slots) s.cache = null;
      await store.dispose();
    },
  };
}

/** Turns `t` into a spilled tensor of `slot`: its `data` reads the slot (`read`) from now on. */
function defineSpilled(t: Tensor, slot: Slot, read: (s: Slot) => Float32Array): void {
  Object.defineProperty(t, 'data', { get: () => read(slot), enumerable: true, configurable: true });
  spilled.set(t, slot);
}

/** Detaches an array's whole buffer where the platform can (its memory goes back at the next collection at the latest); else leaves it to the collector. */
function releaseNow(data: Float32Array): void {
  const buffer = data.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };
  // shared buffers have no transfer
  if (typeof buffer.transfer !== 'function') return;
  if (data.byteOffset !== 0 || data.byteLength !== buffer.byteLength) return;
  buffer.transfer(0);
}

/** Whether any of `ir`'s tensors is spilled. */
export function weightsSpilled(ir: ModelIR): boolean {
  for (const t of tensorsUnder(ir.weights)) if (spilled.has(t)) return true;
  return false;
}
