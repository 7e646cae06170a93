/**
 * Owner of each main-thread long task (bench/ui-stalls.spec.ts, STALLS_TRACE=1) from a Chromium trace
 * recorded from before navigation: the page's main thread's own trace events inside the task's window
 * (layout, style, script evaluation, GC, the synchronous font-service calls of a first layout) and its
 * V8 samples split by whose code ran: the app (a frame from the page's origin), other JS (no frame from
 * the page: Playwright's injected and evaluated scripts), GC, or native work outside JS ("(program)").
 * Pure: the trace events and the windows in, numbers out.
 */

export interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  id?: string;
  args?: Record<string, unknown>;
}

export interface TaskWindow {
  /** performance.now() of the page, ms. */
  start: number;
  duration: number;
}

export interface TaskOwner {
  start: number;
  duration: number;
  /** By the largest share of samples: 'app', 'bench (playwright)' (other JS), 'gc', 'native' (layout, style, font calls) or 'unsampled'. */
  owner: string;
  /** ms of main-thread samples per kind. */
  samplesMs: { app: number; otherJs: number; gc: number; native: number };
  /** ms of the main thread's trace events inside the window, by name (the largest ones). */
  events: Record<string, number>;
}

/** Trace events of the main thread, the page's clock offset and its V8 samples. */
interface MainThread {
  pid: number;
  tid: number;
  /** trace µs of the page's performance.now() = 0 */
  origin: number;
  samples: { ts: number; dt: number; kind: keyof TaskOwner['samplesMs'] }[];
}

const EVENTS = [
  'Layout',
  'UpdateLayoutTree',
  'WebSandboxSupportLinux::GetWebFontRenderStyleForStrike',
  'EvaluateScript',
  'v8.compile',
  'FunctionCall',
  'MinorGC',
  'MajorGC',
  'Paint',
  'HitTest',
];

interface CpuNode {
  id: number;
  parent?: number;
  callFrame: { functionName?: string; url?: string };
}

/** Finds the page's main thread by the mark the bench made (`syncMark` at page time `syncAt`), and its samples. */
function mainThread(events: readonly TraceEvent[], syncMark: string, syncAt: number, pageOrigin: string): MainThread {
  const mark = events.find((e) => e.name === syncMark);
  if (!mark) throw new Error(`trace has no mark ${syncMark}`);
  const { pid, tid } = mark;
  const origin = mark.ts - syncAt * 1000;
  const profileIds = new Set(events.filter((e) => e.name === 'Profile' && e.pid === pid && e.tid === tid).map((e) => e.id));
  const nodes = new Map<number, CpuNode>();
  const all: { ts: number; dt: number; kind: MainThread['samples'][number]['kind'] | undefined }[] = [];
  const start = events.find((e) => e.name === 'Profile' && profileIds.has(e.id));
  let t = ((start?.args?.data as { startTime?: number } | undefined)?.startTime ?? 0) as number;
  const kindOf = (id: number): keyof TaskOwner['samplesMs'] => {
    let js = false;
    for (let n = nodes.get(id); n; n = n.parent === undefined ? undefined : nodes.get(n.parent)) {
      const url = n.callFrame.url ?? '';
      const name = n.callFrame.functionName ?? '';
      if (url.startsWith(pageOrigin)) return 'app';
      if (name === '(garbage collector)') return 'gc';
      if (name === '(program)' || name === '(idle)' || name === '(root)') continue;
      if (url !== '' || name !== '') js = true;
    }
    return js ? 'otherJs' : 'native';
  };
  for (const e of events) {
    if (e.name !== 'ProfileChunk' || e.pid !== pid || !profileIds.has(e.id)) continue;
    const data = e.args?.data as { cpuProfile?: { nodes?: CpuNode[]; samples?: number[] }; timeDeltas?: number[] } | undefined;
    for (const n of data?.cpuProfile?.nodes ?? []) nodes.set(n.id, n);
    const ids = data?.cpuProfile?.samples ?? [];
    const deltas = data?.timeDeltas ?? [];
    ids.forEach((id, i) => {
      const dt = deltas[i] ?? 0;
      t += dt;
      const idle = nodes.get(id)?.callFrame.functionName === '(idle)';
      all.push({ ts: t, dt, kind: idle ? undefined : kindOf(id) });
    });
  }
  // a sample's weight is the gap to the next one (idle or not); idle samples are left out after
  all.sort((a, b) => a.ts - b.ts);
  for (let i = 0; i + 1 < all.length; i++) all[i]!.dt = Math.min(all[i + 1]!.ts - all[i]!.ts, 10_000);
  const samples = all.flatMap((x) => (x.kind ? [{ ts: x.ts, dt: x.dt, kind: x.kind }] : []));
  return { pid, tid, origin, samples };
}

/**
 * Owners of `tasks`. `syncMark` is a performance.mark the page made at `syncAt` (its performance.now(),
 * ms) while the trace ran; `pageOrigin` is the app's origin (its scripts' URLs start with it).
 */
export function ownTasks(
  events: readonly TraceEvent[],
  tasks: readonly TaskWindow[],
  syncMark: string,
  syncAt: number,
  pageOrigin: string,
): TaskOwner[] {
  const main = mainThread(events, syncMark, syncAt, pageOrigin);
  const own = events.filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && EVENTS.includes(e.name));
  return tasks.map((task) => {
    const from = main.origin + task.start * 1000;
    const to = from + task.duration * 1000;
    const samplesMs = { app: 0, otherJs: 0, gc: 0, native: 0 };
    for (const s of main.samples) if (s.ts >= from && s.ts < to) samplesMs[s.kind] += s.dt / 1000;
    const byName: Record<string, number> = {};
    for (const e of own) {
      const end = e.ts + (e.dur ?? 0);
      if (end <= from || e.ts >= to) continue;
      byName[e.name] = (byName[e.name] ?? 0) + (Math.min(end, to) - Math.max(e.ts, from)) / 1000;
    }
    const round = (x: number) => Math.round(x * 10) / 10;
    for (const k of Object.keys(samplesMs) as (keyof typeof samplesMs)[]) samplesMs[k] = round(samplesMs[k]);
    const events = Object.fromEntries(
      Object.entries(byName)
        .filter(([, ms]) => ms >= 1)
        .sort((a, b) => b[1] - a[1])
        .map(([k, ms]) => [k, round(ms)]),
    );
    const top = (Object.entries(samplesMs) as [keyof typeof samplesMs, number][]).sort((a, b) => b[1] - a[1])[0]!;
    const owner = top[1] === 0 ? 'unsampled' : top[0] === 'otherJs' ? 'bench (playwright)' : top[0];
    return { start: Math.round(task.start), duration: Math.round(task.duration), owner, samplesMs, events };
  });
}
