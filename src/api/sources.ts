/**
 * Model sources beyond the demo and plain URLs: Hub repositories (repo id, "@revision" or URL;
 * configurable endpoint; optional token; the injected download cache) and files the user picked
 * (browser File objects). Also the load options every source gets: its display name and the size
 * preflight against the memory budget the host reports.
 */
import { InputError } from '../core/errors';
import type { LoadOptions } from '../arch/load';
import { blobSource } from '../io/blob-source';
import { hubSource } from '../io/hub-source';
import { normalizeEndpoint, parseModelRef, validateRevision } from '../io/hub-ref';
import { checkFits, estimateNeed } from '../io/memory-budget';
import type { FileSource } from '../io/source';
import type { StudioDeps } from './state';
import type { ModelSource } from './types';

type HubOrFiles = Extract<ModelSource, { kind: 'hub' | 'files' }>;

export function openModelSource(source: HubOrFiles, deps: StudioDeps): FileSource {
  if (source.kind === 'files') return blobSource(source.files, source.name ?? 'local files');
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

/** Display name and size preflight for a source. */
export function loadOptionsFor(source: ModelSource, deps: StudioDeps): Pick<LoadOptions, 'name' | 'preflight'> {
  const name = displayName(source);
  const budget = deps.memoryBudget;
  return {
    ...(name ? { name } : {}),
    ...(budget
      ? { preflight: (bytes: number, perWeight: number) => checkFits(name ?? 'The model', estimateNeed(bytes, perWeight), budget()) }
      : {}),
  };
}

function displayName(source: ModelSource): string | undefined {
  if (source.kind === 'hub') {
    const ref = parseModelRef(source.repo);
    const revision = source.revision ?? ref.revision;
    return revision === 'main' ? ref.repo : `${ref.repo}@${revision}`;
  }
  if (source.kind === 'files') return source.name ?? commonFolder(source.files.map((f) => f.path));
  return undefined;
}

function commonFolder(paths: string[]): string | undefined {
  const first = paths[0]?.replace(/\\/g, '/').split('/');
  if (!first || first.length < 2) {
    const onnx = paths.find((p) => p.endsWith('.onnx'));
    return onnx ? onnx.replace(/\.onnx$/, '') : undefined;
  }
  return paths.every((p) => p.replace(/\\/g, '/').startsWith(`${first[0]}/`)) ? first[0] : undefined;
}
