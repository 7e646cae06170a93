/** Browser entry point: mounts the React app. */
import { StrictMode, startTransition } from 'react';
import { createRoot } from 'react-dom/client';
import './ui/styles.css';

// The app's modules come in a chunk of their own, evaluated in a task after React's: one module graph
// was a single main-thread task of 100-140 ms at page load (bench/ui-stalls.spec.ts).
const [{ App }, { engine }] = await Promise.all([import('./ui/App'), import('./ui/jobs')]);

// Automation hook (benchmarks, debugging): the same worker client the UI uses. A benchmark that sets
// `window.__pruneStudioProgress = []` gets every progress report appended with its time (performance.now()).
// `cancel()` aborts every hook call still running (a benchmark's per-step time limit).
type ProgressLog = { t: number; stage: string; done: number; total: number; message?: string }[];
const hookWindow = window as unknown as { __pruneStudio: unknown; __pruneStudioProgress?: ProgressLog };
const running = new Set<AbortController>();
hookWindow.__pruneStudio = {
  run: async (method: string, args: unknown[]) => {
    const log = hookWindow.__pruneStudioProgress;
    const controller = new AbortController();
    running.add(controller);
    try {
      return await engine().run(method as never, args as never, {
        signal: controller.signal,
        ...(log ? { onProgress: (p) => log.push({ t: performance.now(), ...p }) } : {}),
      });
    } finally {
      running.delete(controller);
    }
  },
  cancel: () => running.forEach((c) => c.abort()),
};

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
// A transition: React renders the page in slices of a few ms instead of one task (its first
// render was a main-thread task of 100-200 ms in bench/ui-stalls.spec.ts).
startTransition(() =>
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  ),
);
