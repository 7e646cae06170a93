/**
 * The one guarded JSON reader for every JSON file the studio reads (config.json, tokenizer.json,
 * tokenizer_config.json, plan.json, the shard index, generation_config.json): a syntax error
 * becomes a named error (`JsonFileError`, or the file's own domain error) naming the file, the line:column of the error (found by our own scan,
 * so the position does not depend on the JavaScript engine's message) and what to do.
 */
import { StudioError } from '../core/errors';

export class JsonFileError extends StudioError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  constructor(file: string, line: number, column: number, what: string, hint: string) {
    super('INPUT_INVALID', jsonMessage(file, line, column, what), hint);
    this.file = file;
    this.line = line;
    this.column = column;
  }
}

function jsonMessage(file: string, line: number, column: number, what: string): string {
  return `${file} is not valid JSON: ${what} at line ${line}:${column}.`;
}

export interface JsonReadOptions {
  /** What the user can do about a broken file; default: re-download or re-save it. */
  hint?: string;
  /**
   * The named error of the file's domain (ConfigError for config.json, TokenizerError for the
   * tokenizer files, SafetensorsError for the shard index); default JsonFileError.
   */
  error?: new (message: string, hint?: string) => StudioError;
}

function fail(file: string, line: number, column: number, what: string, hint: string, options: JsonReadOptions): never {
  if (options.error) throw new options.error(jsonMessage(file, line, column, what), hint);
  throw new JsonFileError(file, line, column, what, hint);
}

/** Parses JSON text; a syntax error (or bytes that are not UTF-8) is a JsonFileError naming `file`. */
export function parseJsonText(text: string, file: string, options: JsonReadOptions = {}): unknown {
  const hint = options.hint ?? `Re-download ${file} (or re-save it) from the model's source; it must be a complete JSON file.`;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const at = firstJsonError(text);
    const { line, column } = lineColumn(text, at.offset);
    fail(file, line, column, at.what, hint, options);
  }
}

/** Decodes UTF-8 bytes (strictly) and parses them as JSON. */
export function parseJsonBytes(bytes: Uint8Array, file: string, options: JsonReadOptions = {}): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const hint = options.hint ?? `Re-download ${file}; it must be UTF-8 JSON text.`;
    fail(file, 1, 1, 'the bytes are not UTF-8 text', hint, options);
  }
  return parseJsonText(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, file, options);
}

export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

interface ScanError {
  offset: number;
  what: string;
}

class Fail extends Error {
  constructor(readonly at: ScanError) {
    super(at.what);
  }
}

/** Where a JSON text first goes wrong (a strict RFC 8259 scan; called only after JSON.parse failed). */
export function firstJsonError(text: string): ScanError {
  let i = 0;
  const fail = (what: string, offset = i): never => {
    throw new Fail({ offset, what });
  };
  const describe = () => (i >= text.length ? 'the text ends early' : `unexpected ${JSON.stringify(text[i])}`);
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail(describe());
  };
  const string = () => {
    i++;
    for (;;) {
      if (i >= text.length) fail('a string is not closed');
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return;
      }
      if (c < 32) fail('a control character inside a string');
      if (c === 92) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('a bad \\u escape');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else fail('a bad escape in a string');
      } else i++;
    }
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '' || m[0] === '-') fail(describe());
    i += m![0].length;
  };
  const value = (depth: number): void => {
    if (depth > 10000) fail('nesting deeper than 10000 levels');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a property name in quotes, ${describe()}`);
        string();
        ws();
        if (text[i] !== ':') fail(`expected ":", ${describe()}`);
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail(`expected "," or "}", ${describe()}`);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail(`expected "," or "]", ${describe()}`);
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    fail(text.trim() === '' ? 'the file is empty' : describe());
  };
  try {
    value(0);
    ws();
    if (i < text.length) fail(`unexpected text after the JSON value: ${JSON.stringify(text.slice(i, i + 12))}`);
  } catch (e) {
    if (e instanceof Fail) return e.at;
    if (e instanceof RangeError) return { offset: i, what: 'nesting too deep' };
    throw e;
  }
  return { offset: 0, what: 'the JavaScript JSON parser refused it' };
}
