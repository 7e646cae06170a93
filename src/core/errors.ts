/**
 * Named, typed errors. Every message says what is wrong and what the user can do about it.
 * Errors cross the worker boundary as plain objects ({ name, code, message }) and are rebuilt by
 * `fromSerialized`, so the UI can branch on `code` without string matching.
 */

export type StudioErrorCode =
  | 'SAFETENSORS_INVALID'
  | 'CONFIG_INVALID'
  | 'UNSUPPORTED_MODEL'
  | 'SHAPE_MISMATCH'
  | 'TOKENIZER_INVALID'
  | 'ONNX_INVALID'
  | 'FETCH_FAILED'
  | 'GATED_MODEL'
  | 'MODEL_TOO_LARGE'
  | 'INPUT_INVALID'
  | 'RUNTIME_FAILED'
  | 'CANCELLED'
  | 'NUMERIC_INVALID'
  | 'STORAGE_FAILED';

export class StudioError extends Error {
  readonly code: StudioErrorCode;
  /** What the user can do about it, shown under the message in the UI. */
  readonly hint: string | undefined;
  constructor(code: StudioErrorCode, message: string, hint?: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.hint = hint;
  }
}

export class SafetensorsError extends StudioError {
  constructor(message: string, hint = 'The file is not a valid .safetensors file; re-download or re-export it.') {
    super('SAFETENSORS_INVALID', message, hint);
  }
}

export class ConfigError extends StudioError {
  constructor(message: string, hint = 'Check config.json: it must come from the same checkpoint as the weights.') {
    super('CONFIG_INVALID', message, hint);
  }
}

export class UnsupportedModelError extends StudioError {
  constructor(message: string, hint = 'Supported families: gpt2, llama (incl. qwen2).') {
    super('UNSUPPORTED_MODEL', message, hint);
  }
}

export class ShapeMismatchError extends StudioError {
  constructor(message: string, hint = 'The weights do not match config.json; make sure both come from the same model.') {
    super('SHAPE_MISMATCH', message, hint);
  }
}

export class TokenizerError extends StudioError {
  constructor(message: string, hint = 'Provide the tokenizer.json that ships with this model.') {
    super('TOKENIZER_INVALID', message, hint);
  }
}

export class OnnxFormatError extends StudioError {
  constructor(message: string, hint = 'The ONNX file could not be read; re-export it with a standard exporter.') {
    super('ONNX_INVALID', message, hint);
  }
}

/** An imported ONNX graph computes something other than the decoder the importer rebuilt from it. */
export class OnnxImportMismatchError extends StudioError {
  /** Largest |logit difference| between the file and the rebuilt model on the check's random sequences. */
  readonly maxAbsDiff: number;
  /** First layer whose output differs (-1: the embedding), when it could be located. */
  readonly firstLayer: number | undefined;
  constructor(
    message: string,
    maxAbsDiff: number,
    firstLayer: number | undefined,
    hint = 'The graph differs from every decoder Prune Studio knows (e.g. a changed normalisation or attention mask); export it with a standard exporter, or load the safetensors checkpoint.',
  ) {
    super('ONNX_INVALID', message, hint);
    this.maxAbsDiff = maxAbsDiff;
    this.firstLayer = firstLayer;
  }
}

export class FetchError extends StudioError {
  readonly status: number | undefined;
  constructor(message: string, status?: number, hint = 'Check the address and your connection, then retry.') {
    super('FETCH_FAILED', message, hint);
    this.status = status;
  }
}

/** HTTP 401/403 on a gated or private Hub repository. */
export class GatedModelError extends StudioError {
  readonly status: number;
  constructor(message: string, status: number, hint = 'Accept the model licence on its Hub page and provide an access token.') {
    super('GATED_MODEL', message, hint);
    this.status = status;
  }
}

/** The size preflight: the model would not fit in the memory the browser reports. */
export class ModelTooLargeError extends StudioError {
  readonly neededBytes: number;
  readonly availableBytes: number;
  constructor(
    message: string,
    neededBytes: number,
    availableBytes: number,
    hint = 'Pick a smaller model (or a machine with more memory).',
  ) {
    super('MODEL_TOO_LARGE', message, hint);
    this.neededBytes = neededBytes;
    this.availableBytes = availableBytes;
  }
}

export class InputError extends StudioError {
  constructor(message: string, hint?: string) {
    super('INPUT_INVALID', message, hint);
  }
}

export class RuntimeFailure extends StudioError {
  constructor(message: string, hint = 'The inference runtime failed; try the WASM backend or a smaller input.') {
    super('RUNTIME_FAILED', message, hint);
  }
}

export class CancelledError extends StudioError {
  constructor(what = 'The operation') {
    super('CANCELLED', `${what} was cancelled.`);
  }
}

export class NumericError extends StudioError {
  constructor(message: string, hint = 'The model or statistics contain NaN or Inf values; check the weights.') {
    super('NUMERIC_INVALID', message, hint);
  }
}

/** Calibration statistics kept in storage (core/gram-store.ts) could not be written or read back. */
export class GramStoreError extends StudioError {
  constructor(message: string, hint = 'Re-run calibration with Hessians (after freeing disk or browser storage).') {
    super('STORAGE_FAILED', message, hint);
  }
}

export interface SerializedError {
  name: string;
  code: StudioErrorCode | 'UNKNOWN';
  message: string;
  hint?: string;
}

export function serializeError(e: unknown): SerializedError {
  if (e instanceof StudioError) return { name: e.name, code: e.code, message: e.message, hint: e.hint };
  if (e instanceof Error) return { name: e.name, code: 'UNKNOWN', message: e.message };
  return { name: 'Error', code: 'UNKNOWN', message: String(e) };
}

export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw new CancelledError(what);
}
