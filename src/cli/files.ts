/** The CLI's reads of user-named files (texts, plans): a missing path or a folder is an InputError naming it. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError } from '../core/errors';
import { parseJsonText } from '../api';

/** Reads a UTF-8 text file given by `--flag`; missing or a folder -> InputError naming the path and the flag. */
export function readTextFile(path: string, flag: string): string {
  const full = resolve(path);
  if (!existsSync(full)) throw new InputError(`--${flag}: file ${full} does not exist.`, `Pass --${flag} the path of an existing file.`);
  if (statSync(full).isDirectory())
    throw new InputError(`--${flag}: ${full} is a folder, not a file.`, `Pass --${flag} the path of a file inside it.`);
  return readFileSync(full, 'utf8');
}

/** Reads and parses a JSON file given by `--flag` (syntax errors name the file and line:column). */
export function readJsonFile(path: string, flag: string, hint?: string): unknown {
  return parseJsonText(readTextFile(path, flag), path, hint ? { hint } : {});
}
