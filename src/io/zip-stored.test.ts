/**
 * The streamed stored zip (io/zip-stored.ts) against independent readers: fflate's unzipSync (its
 * reader, not the writer used here) and Python's zipfile when Debian's python3 is present, with
 * node:zlib's CRC-32; the files' bytes are parts as they are (no copy).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { storedZipParts, storedZipPartsWithBlobs } from './zip-stored';

function bytes(n: number, seed: number): Uint8Array {
  const a = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) a[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  return a;
}

const files = [
  { name: 'onnx/model.onnx', bytes: bytes(3 * 2 ** 20 + 7, 1) },
  { name: 'config.json', bytes: new TextEncoder().encode('{"model_type":"gpt2"}') },
  { name: 'empty.txt', bytes: new Uint8Array(0) },
];

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

describe('stored zip parts', () => {
  const parts = storedZipParts(files);
  const zip = concat(parts);

  it('holds every file uncompressed, readable by fflate unzipSync, with zlib CRC-32 in the central directory', () => {
    const read = unzipSync(zip);
    expect(Object.keys(read)).toEqual(files.map((f) => f.name));
    for (const f of files) expect(Buffer.from(read[f.name]!).equals(Buffer.from(f.bytes))).toBe(true);
    // central directory entries (signature 0x02014b50): method 0 (stored), CRC-32 and both sizes
    const view = new DataView(zip.buffer);
    let seen = 0;
    for (let i = 0; i + 46 <= zip.length; i++) {
      if (view.getUint32(i, true) !== 0x02014b50) continue;
      const f = files[seen++]!;
      expect(view.getUint16(i + 10, true)).toBe(0);
      expect(view.getUint32(i + 16, true)).toBe(crc32(f.bytes));
      expect(view.getUint32(i + 20, true)).toBe(f.bytes.byteLength);
      expect(view.getUint32(i + 24, true)).toBe(f.bytes.byteLength);
    }
    expect(seen).toBe(files.length);
  });

  it("passes the files' own arrays through as parts (no copy of the model bytes)", () => {
    for (const f of files.filter((x) => x.bytes.byteLength > 0)) expect(parts.some((p) => p === f.bytes)).toBe(true);
    const overhead = zip.byteLength - files.reduce((n, f) => n + f.bytes.byteLength, 0);
    expect(overhead).toBeLessThan(400);
  });

  it.runIf(existsSync('/usr/bin/python3'))("is a valid zip for Python's zipfile (testzip: every CRC checked)", () => {
    const path = join(mkdtempSync(join(tmpdir(), 'zip-stored-')), 'bundle.zip');
    writeFileSync(path, zip);
    const out = execFileSync('/usr/bin/python3', [
      '-c',
      'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(z.testzip(), [(i.filename, i.compress_type, i.file_size) for i in z.infolist()])',
      path,
    ]).toString();
    expect(out.trim()).toBe(`None [('onnx/model.onnx', 0, ${files[0]!.bytes.byteLength}), ('config.json', 0, 21), ('empty.txt', 0, 0)]`);
  });
});

describe('stored zip parts with Blob entries (a file in browser storage)', () => {
  // a Blob over 8 MiB: read in several chunks for its CRC
  const model = bytes(17 * 2 ** 20 + 3, 7);
  const blobs = [{ name: 'onnx/model.onnx', blob: new Blob([model as Uint8Array<ArrayBuffer>]) }];
  const rest = files.slice(1);

  it('zips the Blob first and the files after it, readable by fflate unzipSync with zlib CRC-32', async () => {
    const parts = await storedZipPartsWithBlobs(rest, blobs);
    const zip = new Uint8Array(await new Blob(parts).arrayBuffer());
    const read = unzipSync(zip);
    expect(Object.keys(read)).toEqual(['onnx/model.onnx', ...rest.map((f) => f.name)]);
    expect(Buffer.from(read['onnx/model.onnx']!).equals(Buffer.from(model))).toBe(true);
    for (const f of rest) expect(Buffer.from(read[f.name]!).equals(Buffer.from(f.bytes))).toBe(true);
    const view = new DataView(zip.buffer);
    const central = [];
    for (let i = 0; i + 46 <= zip.length; i++) if (view.getUint32(i, true) === 0x02014b50) central.push(i);
    expect(central).toHaveLength(1 + rest.length);
    expect(view.getUint16(central[0]! + 10, true)).toBe(0);
    expect(view.getUint32(central[0]! + 16, true)).toBe(crc32(model));
    expect(view.getUint32(central[0]! + 24, true)).toBe(model.byteLength);
  });

  it("references the Blob's slices instead of holding its bytes", async () => {
    const parts = await storedZipPartsWithBlobs(rest, blobs);
    const inMemory = parts.filter((p) => p instanceof Uint8Array).reduce((n, p) => n + (p as Uint8Array).byteLength, 0);
    const sliced = parts.filter((p) => p instanceof Blob).reduce((n, p) => n + (p as Blob).size, 0);
    expect(sliced).toBe(model.byteLength);
    expect(inMemory).toBeLessThan(rest.reduce((n, f) => n + f.bytes.byteLength, 0) + 600);
  });
});
