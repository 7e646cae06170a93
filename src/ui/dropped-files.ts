/**
 * Browser-only: turns what the user picked or dropped into the engine's LocalFile list.
 * A folder pick (<input webkitdirectory>) keeps each File's webkitRelativePath; a drop walks
 * dropped folders through the File System entries API (webkitGetAsEntry), reading directories in
 * batches until empty, so "my-model/onnx/model.onnx_data" arrives with its path.
 */
import type { LocalFile } from '../io/blob-source';

export function filesFromInput(list: FileList | null): LocalFile[] {
  return [...(list ?? [])].map((file) => ({ path: file.webkitRelativePath || file.name, file }));
}

function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => {
    const out: FileSystemEntry[] = [];
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(out);
        else {
          out.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, prefix: string, out: LocalFile[]): Promise<void> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ path, file });
  } else if (entry.isDirectory) {
    for (const child of await readAll((entry as FileSystemDirectoryEntry).createReader())) await walk(child, path, out);
  }
}

export async function filesFromDrop(data: DataTransfer): Promise<LocalFile[]> {
  const entries = [...data.items].map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return filesFromInput(data.files);
  const out: LocalFile[] = [];
  for (const e of entries) await walk(e, '', out);
  return out;
}
