/** Minimal `--flag value` / `--switch` argument parsing for the CLI (no dependency). */
import { InputError } from '../core/errors';

export interface ParsedArgs {
  command: string | undefined;
  flags: Map<string, string | true>;
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const [command, ...rest] = argv;
  const flags = new Map<string, string | true>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? '';
    if (!arg.startsWith('--')) throw new InputError(`Unexpected argument "${arg}".`, 'Flags look like --name value.');
    const next = rest[i + 1];
    if (next === undefined || next.startsWith('--')) flags.set(arg.slice(2), true);
    else {
      flags.set(arg.slice(2), next);
      i++;
    }
  }
  return { command, flags };
}

export function stringFlag(args: ParsedArgs, name: string, fallback?: string): string {
  const v = args.flags.get(name);
  if (typeof v === 'string') return v;
  if (fallback !== undefined) return fallback;
  throw new InputError(`Missing --${name} <value>.`);
}

export function numberFlag(args: ParsedArgs, name: string, fallback: number): number {
  const v = args.flags.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n)) throw new InputError(`--${name} needs a number, got "${String(v)}".`);
  return n;
}
