/**
 * The exporters room's contract: what an export asks for (`ExportOptions`: format and dtype), what
 * an exporter is (write the model files, then verify them by re-loading through the injected
 * Runner), and what a bundle file and a verification record look like. Symmetric to the importers
 * (io/onnx-import, arch/load.ts): importers turn files into a ModelIR, exporters turn a ModelIR
 * into files and prove the files give the same logits.
 */
import type { ModelIR } from '../core/ir';
import type { Feeds, Runner } from '../core/runner';
import type { WithSession } from '../graph/open-file';

/** A model file format the studio writes: the `format` of an exporter registered in registry.ts (EXPORT_FORMATS lists them). */
export type ExportFormat = string;
/** Weight precision of the written model: fp32, or a quantization variant (src/quantize, ONNX only). */
export type ExportDtype = string;

export interface ExportOptions {
  format: ExportFormat;
  dtype: ExportDtype;
  /** int4 dtypes: symmetric blocks (zero point 8, no zero_points input); default asymmetric. */
  int4Symmetric?: boolean;
}

export const DEFAULT_EXPORT_OPTIONS: ExportOptions = { format: 'onnx', dtype: 'fp32' };

/** Progress of an export (structurally the api's ProgressCallback; the exporters sit below the api). */
export type ExportProgress = (p: { stage: string; done: number; total: number; message?: string }) => void;

export interface ExportFile {
  name: string;
  bytes: Uint8Array;
}

/** The written model re-opened in a fresh session and compared with a reference on fixed tokens. */
export interface ExportVerification {
  maxAbsLogitDiff: number;
  positions: number;
  reference: string;
}

/** What the written model must reproduce: the logits graph of `ir` (with mask inputs when `masks`), fed `feeds`. */
export interface ExportReference {
  ir: ModelIR;
  masks: boolean;
  feeds: Feeds;
  /** Says what the reference is, e.g. "masked preview of the same plan on the (compensated) full-size model". */
  label: string;
}

/** One export: the model to write, the reference it must match, and the probe tokens. */
export interface ExportSubject {
  ir: ModelIR;
  reference: ExportReference;
  probe: readonly number[];
  /** Calibration sequences (token ids) for quantization variants that need Hessians (GPTQ). */
  calibration?: readonly (readonly number[])[];
  /** Image classifiers: the probe is these preprocessed images (pixel_values [n, C, S, S]) instead of `probe`. */
  probeImages?: ProbeImages;
  /** Called once the reference ran, before the written file opens (the engine frees what it need not hold then). */
  beforeWritten?: () => void;
  /** Where a large model's written file opens for its check (api/written-file.ts); absent: in the export's runner. */
  written?: WrittenFileHost;
}

/**
 * A host for a large model's written file: the bytes are stored and prepared to open from storage,
 * then freed in memory until `restore`, and the file opens in a runner of its own (a disposable
 * isolate), so the export holds either the bytes or the file's session, not both.
 */
export interface WrittenFileHost {
  /** Stores and prepares `bytes`, frees them in memory where every tensor reads from storage. */
  prepare(bytes: Uint8Array): Promise<{ withSession: WithSession }>;
  /** `bytes` itself or, once freed, the same bytes read back. */
  restore(bytes: Uint8Array): Uint8Array;
}

/** Preprocessed images fed as pixel_values by the verification of an image classifier's export. */
export interface ProbeImages {
  data: Float32Array;
  dims: readonly number[];
}

/** config.json entries an exporter contributes (docs/export-bundle.md lists them). */
export interface ExportConfigEntries {
  top?: Record<string, unknown>;
  pruneStudio?: Record<string, unknown>;
}

export interface Exporter {
  readonly format: ExportFormat;
  /** One line for users: what the written file is and who reads it. */
  readonly what: string;
  /** Short name in progress messages ("Writing ONNX"). */
  readonly label: string;
  readonly dtypes: readonly ExportDtype[];
  /** The model-card line describing the model file(s) this exporter writes. */
  readonly cardLine: string;
  /** The model file(s), in bundle order (first: the model); names may hold a folder ("onnx/model.onnx"). */
  write(ir: ModelIR, options: ExportOptions): ExportFile[];
  /** When present, used instead of `write` (steps that run the model first, e.g. GPTQ's Hessians). */
  writeAsync?(subject: ExportSubject, options: ExportOptions, runner: Runner): Promise<ExportFile[]>;
  /**
   * What this format adds to the bundle's config.json: top-level keys (e.g. "transformers.js_config"),
   * and `prune_studio` entries merged into that block (e.g. attention_scale_folded). Optional.
   */
  config?(ir: ModelIR, options: ExportOptions): ExportConfigEntries;
  /** Re-loads the written files through the runner and measures them against the reference. */
  verify(files: readonly ExportFile[], subject: ExportSubject, runner: Runner): Promise<ExportVerification>;
}
