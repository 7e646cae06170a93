/**
 * Model sources: the one place a ModelSource becomes a FileSource plus its load options (display
 * name, size preflight against the memory budget the host reports). Kinds: the demo and plain
 * URLs (io/source.ts), local folders (the injected `openDir`, Node only), Hub repositories (repo
 * id, "@revision" or URL; configurable endpoint; optional token; the injected download cache) and
 * files the user picked (browser File objects, io/blob-source.ts).
 */
import { InputError } from '../core/errors';
import type { LoadOptions } from '../arch/load';
import { blobSource, pickedName } from '../io/blob-source';
import { hubSource } from '../io/hub-source';
import { normalizeEndpoint, parseModelRef, validateRevision } from '../io/hub-ref';
import { checkFits, estimateNeed } from '../io/memory-budget';
import { checkMemory } from '../io/memory-preflight';
import { shapeFromConfig } from '../arch/config';
import { urlSource, type FileSource } from '../io/source';
import type { StudioDeps } from './state';
import type { ModelSource } from './types';

export interface OpenedSource {
  files: FileSource;
  options: Pick<LoadOptions, 'name' | 'preflight' | 'variant'>;
}

/** Resolves a model source: where its files come from, its display name and the size preflight. */
export function openSource(source: ModelSource, deps: StudioDeps): OpenedSource {
  const variant = source.variant !== undefined ? { variant: source.variant } : {};
  return { files: fileSource(source, deps), options: { ...loadOptionsFor(source, deps), ...variant } };
}

function fileSource(source: ModelSource, deps: StudioDeps): FileSource {
  switch (source.kind) {
    case 'demo':
      return urlSource(deps.demoUrl);
    case 'url':
      return urlSource(source.baseUrl);
    case 'dir':
      if (!deps.openDir) throw new InputError('Local folders can only be opened from the CLI; pick files instead.');
      return deps.openDir(source.path);
    case 'files':
      return blobSource(source.files, source.name ?? 'local files');
    case 'hub':
      return hubFileSource(source, deps);
  }
}

function hubFileSource(source: Extract<ModelSource, { kind: 'hub' }>, deps: StudioDeps): FileSource {
  const ref = parseModelRef(source.repo);
  const revision = source.revision ? validateRevision(source.revision) : ref.revision;
  const endpoint = normalizeEndpoint(source.endpoint ?? ref.endpoint ?? deps.hubEndpoint);
  const token = source.token?.trim();
  if (token !== undefined && token !== '' && !/^[\x21-\x7e]+$/.test(token)) {
    throw new InputError(
      'The access token contains spaces or non-ASCII characters.',
      'Paste the token exactly as the Hub shows it (hf_...).',
    );
  }
  return hubSource(ref.repo, revision, {
    endpoint,
    ...(token ? { token } : {}),
    ...(deps.hubCache ? { cache: deps.hubCache } : {}),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.stallMs ? { stallMs: deps.stallMs } : {}),
  });
}

/** Whether loading holds the weight files whole: picked files and local folders are read tensor by tensor (FileSource.readRange). */
export function filesHeldWhole(source: ModelSource): boolean {
  return source.kind !== 'files' && source.kind !== 'dir';
}

/** Display name and size preflight for a source. */
function loadOptionsFor(source: ModelSource, deps: StudioDeps): Pick<LoadOptions, 'name' | 'preflight'> {
  const name = displayName(source);
  const budget = deps.memoryBudget;
  const heldWhole = filesHeldWhole(source);
  const preflight = (bytes: number, perWeight: number, config?: unknown) => {
    const b = budget?.();
    checkFits(name ?? 'The model', estimateNeed(bytes, perWeight, heldWhole), b);
    // From the shapes: the wasm32 heap and the largest buffer (ONNX bytes, embedding) as well.
    if (config !== undefined && b)
      checkMemory(name ?? 'The model', { ...shapeFromConfig(config), filesHeldWhole: heldWhole }, LOAD_SETTINGS, b, ['load']);
  };
  return { ...(name ? { name } : {}), ...(budget ? { preflight } : {}) };
}

/** The load check plans no perplexity run beyond the engine's default (context 128, batch 8). */
const LOAD_SETTINGS = { perplexity: { contextLength: 128, batchSize: 8 } };

function displayName(source: ModelSource): string | undefined {
  if (source.kind === 'hub') {
    const ref = parseModelRef(source.repo);
    const revision = source.revision ?? ref.revision;
    return revision === 'main' ? ref.repo : `${ref.repo}@${revision}`;
  }
  if (source.kind === 'files') return source.name ?? pickedName(source.files);
  return undefined;
}
