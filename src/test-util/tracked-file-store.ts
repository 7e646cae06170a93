/** A Node temp-file GramStore factory that records the path of every file it opens (tests check their removal). */
import { openFileGramStore } from '../cli/gram-file-store';
import type { GramStoreFactory } from '../core/gram-store';

export function trackedFileStores(): { factory: GramStoreFactory; files: string[] } {
  const files: string[] = [];
  const factory: GramStoreFactory = async () => {
    const s = openFileGramStore();
    files.push(s.where.replace(/^temp file /, ''));
    return s;
  };
  return { factory, files };
}
