/**
 * The export zip, built in a short-lived worker (workers/zip.worker.ts) so the UI thread never
 * deflates model bytes; the files' buffers move to the worker (the UI does not keep them) and the
 * zip comes back as a Blob, ready to download. Files kept in browser storage (a streamed export's
 * model file) go as Blobs and become parts of the zip as they are (read from storage, not copied).
 */
import type { ZipRequest } from '../../workers/zip.worker';

export function zipInWorker(files: ZipRequest['files'], level: ZipRequest['level'] = 6, stored: ZipRequest['stored'] = []): Promise<Blob> {
  const worker = new Worker(new URL('../../workers/zip.worker.ts', import.meta.url), { type: 'module', name: 'prune-studio-zip' });
  return new Promise<Blob>((resolve, reject) => {
    worker.onmessage = (ev: MessageEvent<{ zip?: Blob; error?: string }>) => {
      worker.terminate();
      if (ev.data.zip) resolve(ev.data.zip);
      else reject(new Error(`Zipping the export failed: ${ev.data.error ?? 'unknown error'}.`));
    };
    worker.onerror = (ev) => {
      worker.terminate();
      reject(new Error(`The zip worker stopped: ${ev.message || 'it could not be started'}.`));
    };
    const buffers = [...new Set(files.map((f) => f.bytes.buffer as ArrayBuffer))];
    worker.postMessage({ files, level, stored } satisfies ZipRequest, buffers);
  });
}
