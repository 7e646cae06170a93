/**
 * Zips the exported bundle off the UI thread: deflating a model's bytes takes seconds for the
 * demo model and minutes for 124M, a main-thread stall (bench/ui-stalls.spec.ts). Receives the
 * files transferred, answers the zip transferred; one message per export.
 */
import { zipSync } from 'fflate';

export interface ZipRequest {
  files: { name: string; bytes: Uint8Array }[];
  level: 0 | 6;
}

self.onmessage = (ev: MessageEvent<ZipRequest>) => {
  try {
    const zip = zipSync(Object.fromEntries(ev.data.files.map((f) => [f.name, f.bytes])), { level: ev.data.level });
    (self as unknown as Worker).postMessage({ zip }, [zip.buffer]);
  } catch (e) {
    (self as unknown as Worker).postMessage({ error: e instanceof Error ? e.message : String(e) });
  }
};
