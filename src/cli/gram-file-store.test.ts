/**
 * The stores' range reads (GramStore.readBytes): the temp-file store and the in-memory reference give
 * any byte range of a stored array, and refuse one outside it. The OPFS store has the same code
 * path and is exercised by the e2e specs through spilled models.
 */
import { describe, expect, it } from 'vitest';
import { memoryGramStore, type GramStore } from '../core/gram-store';
import { openFileGramStore } from './gram-file-store';

const stores: [string, () => GramStore][] = [
  ['temp file', () => openFileGramStore()],
  ['memory', () => memoryGramStore()],
];

describe.each(stores)('%s store: readBytes', (_, open) => {
  it('reads any range of a stored array, after other arrays', async () => {
    const store = open();
    const first = Float32Array.from({ length: 5 }, (_, i) => -i);
    const values = Float32Array.from({ length: 40 }, (_, i) => i * 1.5 + 0.25);
    store.put('a', first);
    store.put('b', values);
    const bytes = new Uint8Array(values.buffer);
    for (const [at, n] of [
      [0, 160],
      [3, 17],
      [157, 3],
      [40, 0],
    ] as const) {
      const into = new Uint8Array(n);
      store.readBytes!('b', at, into);
      expect(Buffer.from(into).equals(Buffer.from(bytes.subarray(at, at + n)))).toBe(true);
    }
    expect(() => store.readBytes!('b', 150, new Uint8Array(11))).toThrow(/outside|No bytes/);
    expect(() => store.readBytes!('c', 0, new Uint8Array(1))).toThrow();
    await store.dispose();
  });
});
