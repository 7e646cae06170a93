/**
 * Parses what a user types to name a Hub model: a repo id ("org/name", legacy "name"), optionally
 * "@revision" (branch, tag, commit or refs/pr/N), or a Hub URL (".../org/name", ".../tree/rev",
 * ".../resolve/rev/file", ".../blob/rev/file"), whose origin becomes the endpoint.
 * Repo ids follow the Hub's rules: [A-Za-z0-9_.-] segments, no "--" or "..", at most 96 characters.
 */
import { InputError } from '../core/errors';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';
export const DEFAULT_REVISION = 'main';

export interface ModelRef {
  repo: string;
  revision: string;
  /** Set when the input was a URL (its origin); otherwise the caller's configured endpoint applies. */
  endpoint?: string;
}

const SEGMENT = /^[A-Za-z0-9_.-]+$/;
const EXAMPLE = 'Use a repo id such as "openai-community/gpt2", "Qwen/Qwen2.5-0.5B@main" or a huggingface.co URL.';

export function validateRepoId(repo: string): string {
  const parts = repo.split('/');
  const bad = (why: string) => new InputError(`"${repo}" is not a valid Hub repo id: ${why}.`, EXAMPLE);
  if (!repo) throw bad('it is empty');
  if (parts.length > 2) throw bad('it has more than one "/"');
  if (repo.length > 96) throw bad('it is longer than 96 characters');
  for (const p of parts) {
    if (!SEGMENT.test(p)) throw bad('only letters, digits, "-", "_" and "." are allowed');
    if (p.includes('--') || p.includes('..')) throw bad('"--" and ".." are not allowed');
    if (/^[-.]|[-.]$/.test(p)) throw bad('a part cannot start or end with "-" or "."');
  }
  return repo;
}

export function validateRevision(revision: string): string {
  if (!revision || /[\s\\]|\.\.|^\/|\/$/.test(revision)) {
    throw new InputError(`"${revision}" is not a valid revision (a branch, tag, commit or refs/pr/N).`, EXAMPLE);
  }
  return revision;
}

/** Normalises an endpoint: absolute http(s) URL, no trailing slash. */
export function normalizeEndpoint(endpoint: string | undefined): string {
  const e = (endpoint ?? DEFAULT_ENDPOINT).trim();
  let url: URL;
  try {
    url = new URL(e);
  } catch {
    throw new InputError(`Hub endpoint "${e}" is not a URL.`, 'Use e.g. https://huggingface.co or a mirror such as https://hf-mirror.com.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InputError(`Hub endpoint "${e}" must be http(s).`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export function parseModelRef(input: string): ModelRef {
  const text = input.trim();
  if (/^https?:\/\//i.test(text)) return parseUrl(text);
  const at = text.indexOf('@');
  const repo = at < 0 ? text : text.slice(0, at);
  const revision = at < 0 ? DEFAULT_REVISION : text.slice(at + 1);
  return { repo: validateRepoId(repo), revision: validateRevision(revision) };
}

function parseUrl(text: string): ModelRef {
  const url = new URL(text);
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'datasets' || parts[0] === 'spaces') {
    throw new InputError(`${text} is a ${parts[0].slice(0, -1)}, not a model.`, EXAMPLE);
  }
  const kind = parts.findIndex((p, i) => i >= 1 && i <= 2 && (p === 'tree' || p === 'resolve' || p === 'blob'));
  const repoParts = kind < 0 ? parts.slice(0, 2) : parts.slice(0, kind);
  if (repoParts.length === 0) throw new InputError(`${text} does not name a model repository.`, EXAMPLE);
  const revision = kind < 0 ? DEFAULT_REVISION : (parts[kind + 1] ?? DEFAULT_REVISION);
  return { repo: validateRepoId(repoParts.join('/')), revision: validateRevision(revision), endpoint: url.origin };
}

/** `${endpoint}/${repo}/resolve/${revision}/${path}` with each part URL-encoded (revision as one segment). */
export function resolveUrl(endpoint: string, repo: string, revision: string, path: string): string {
  const file = path.split('/').map(encodeURIComponent).join('/');
  return `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${file}`;
}
