/**
 * The built-in demo model (public/models/demo-gpt2) loads through the real loader. Needs the
 * trained model: fails, rather than skips, when model.safetensors is missing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parameterCount } from '../core/ir';
import { parseSafetensors } from '../io/safetensors';
import type { FileSource } from '../io/source';
import { exportSafetensors, loadModelIR } from './load';

const DIR = 'public/models/demo-gpt2';

function fsSource(dir: string): FileSource {
  return {
    location: dir,
    async read(path) {
      const b = readFileSync(`${dir}/${path}`);
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    },
    async has(path) {
      return existsSync(`${dir}/${path}`);
    },
  };
}

describe('demo model', () => {
  it('loads with the expected architecture and parameter count, and exports the same tensors', async () => {
    if (!existsSync(`${DIR}/model.safetensors`)) {
      throw new Error(`${DIR}/model.safetensors is missing: train the demo model (tools/demo-model) first.`);
    }
    const { ir } = await loadModelIR(fsSource(DIR));
    expect(ir.name).toBe('demo-gpt2');
    expect(ir.spec).toMatchObject({ family: 'gpt2', numLayers: 4, hiddenSize: 256, headDim: 32, vocabSize: 4096, tiedEmbeddings: true });
    expect(ir.layers).toEqual(Array.from({ length: 4 }, () => ({ numHeads: 8, numKvHeads: 8, ffnSize: 1024 })));
    expect(parameterCount(ir)).toBe(4_240_896);

    const original = parseSafetensors(new Uint8Array(readFileSync(`${DIR}/model.safetensors`)));
    const exported = parseSafetensors(exportSafetensors(ir));
    expect([...exported.header.keys()].sort()).toEqual([...original.header.keys()].sort());
    for (const name of original.header.keys()) {
      const a = exported.getFloat32(name).data;
      const b = original.getFloat32(name).data;
      expect(a.length, name).toBe(b.length);
      expect(
        a.findIndex((x, i) => !Object.is(x, b[i])),
        name,
      ).toBe(-1);
    }
  });
});
