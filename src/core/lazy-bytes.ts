/**
 * Bytes read only when asked: a Uint8Array (of length 0 to everything else) whose `byteLength` is
 * the size of the data and whose `subarray(begin, end)` reads those bytes at that moment. For external
 * data handed to a runner that copies each tensor through `subarray` while it opens a session
 * (Runner.readsExternalDataBySubarray: onnxruntime-web's mounted files), so a spilled model's weights
 * pass from storage into the engine one tensor at a time, never all at once in JS. Nothing else may
 * be done with it: its elements are not there (the runner's flag says it only calls `subarray`).
 */
export class LazyBytes extends Uint8Array {
  readonly #size: number;
  readonly #read: () => Uint8Array;

  constructor(size: number, read: () => Uint8Array) {
    super(0);
    this.#size = size;
    this.#read = read;
  }

  override get byteLength(): number {
    return this.#size;
  }

  /** The bytes begin..end, read now (a fresh array the caller owns). */
  override subarray(begin = 0, end = this.#size): Uint8Array<ArrayBuffer> {
    const bytes = this.#read();
    if (bytes.byteLength !== this.#size) throw new RangeError(`lazy bytes: read ${bytes.byteLength} bytes, expected ${this.#size}`);
    return new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset + begin, Math.max(0, Math.min(end, this.#size) - begin));
  }
}
