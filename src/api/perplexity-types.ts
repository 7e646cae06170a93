/** The perplexity request and result types of the StudioApi (api/types.ts re-exports them). */
export interface PerplexityRequest {
  /** The text to score; the UI passes the shipped evaluation text by default. */
  text: string;
  /** Name of the text shown in the protocol, e.g. 'evaluation.txt'. */
  textName: string;
  contextLength: number;
  stride: number;
  /** Score at most this many tokens of the text (after tokenisation). */
  maxTokens?: number;
  /** Raise the cap on a text tokenised whole (default 2 M characters, api/text-guard.ts). */
  maxTextChars?: number;
  batchSize?: number;
  /** Which model: the dense one (default) or the applied (physically pruned) one. */
  target?: ModelTarget;
  /**
   * 'evaluation' (default) or 'heldOut': a text of another domain that neither training nor
   * calibration saw (public/data/heldout.txt); results are kept per role and both are reported.
   */
  role?: 'evaluation' | 'heldOut';
}

export type ModelTarget = 'dense' | 'pruned';

/** Everything needed to reproduce a perplexity number; always shown next to it. */
export interface PerplexityProtocol {
  tokenizer: string;
  textName: string;
  /** Tokens of the text used (after maxTokens). */
  totalTokens: number;
  /** Tokens whose log-probability entered the mean: totalTokens - 1 (the first token has no context). */
  tokensScored: number;
  contextLength: number;
  stride: number;
  /** Whether a BOS token is prepended: always false here; the first token is never scored. */
  bosPrepended: boolean;
}

export interface PerplexityResult {
  perplexity: number;
  meanNll: number;
  /** Standard error of the mean NLL over scored tokens (for a ± band). */
  nllStdError: number;
  protocol: PerplexityProtocol;
  /** Set when the text does not look like text (NUL bytes, mostly unknown / byte-fallback tokens). */
  warnings?: string[];
}
