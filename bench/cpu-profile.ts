/**
 * Attribution of main-thread long tasks (bench/ui-stalls.spec.ts) from a Chromium CPU profile
 * (CDP Profiler, sampled): for each task window, the functions with the most self samples and
 * the heaviest call path (from the root, the child with the most samples, down to a leaf), so a
 * stall is named by its source (a React render, JSON.stringify of a result, a structured clone).
 * Pure: the profile and the windows in, strings out.
 */

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  /** Microseconds, the profiler's clock. */
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface TaskWindow {
  /** performance.now() of the page, ms. */
  start: number;
  duration: number;
}

export interface TaskSource {
  start: number;
  duration: number;
  samples: number;
  /** Time of the samples in which the thread ran (not "(idle)"): the task's own work, less inflated by a loaded machine. */
  busyMs: number;
  /** "name file:line  n%" for the functions with the most self samples. */
  self: string[];
  /** The heaviest call path, root first (idle / program / root frames left out). */
  path: string[];
}

const file = (url: string) => url.replace(/^.*\//, '').replace(/\?.*$/, '');

export function frameLabel(n: CpuProfileNode): string {
  const f = n.callFrame;
  const name = f.functionName || '(anonymous)';
  return f.url ? `${name} ${file(f.url)}:${f.lineNumber + 1}` : name;
}

/**
 * Sources of each window. `pageAtProfileStart` is the page's performance.now() when the profile
 * started (alignment of the two clocks, to a few ms).
 */
export function attributeTasks(profile: CpuProfile, tasks: readonly TaskWindow[], pageAtProfileStart: number, top = 5): TaskSource[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // page time (ms) of each sample
  const times: number[] = [];
  let t = profile.startTime;
  for (const d of profile.timeDeltas) times.push(pageAtProfileStart + ((t += d) - profile.startTime) / 1000);
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  return tasks.map((task) => {
    const inside = (i: number) => times[i]! >= task.start && times[i]! < task.start + task.duration;
    const ids = profile.samples.filter((_, i) => inside(i));
    const busyUs = profile.samples.reduce((s, id, i) => (inside(i) && !idle.has(id) ? s + (profile.timeDeltas[i + 1] ?? 0) : s), 0);
    const self = new Map<string, number>();
    const inclusive = new Map<number, number>();
    for (const id of ids) {
      const label = frameLabel(byId.get(id)!);
      self.set(label, (self.get(label) ?? 0) + 1);
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) inclusive.set(at, (inclusive.get(at) ?? 0) + 1);
    }
    const pct = (k: number) => `${Math.round((100 * k) / Math.max(1, ids.length))}%`;
    const selfTop = [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([label, k]) => `${label}  ${pct(k)}`);
    const path: string[] = [];
    const root = profile.nodes.find((n) => !parent.has(n.id));
    for (let n = root; n;) {
      const skip = ['(root)', '(program)', '(idle)'].includes(n.callFrame.functionName);
      if (!skip && n !== root) path.push(`${frameLabel(n)}  ${pct(inclusive.get(n.id) ?? 0)}`);
      const next: number | undefined = (n.children ?? [])
        .filter((c) => (inclusive.get(c) ?? 0) > 0)
        .sort((a, b) => (inclusive.get(b) ?? 0) - (inclusive.get(a) ?? 0))[0];
      n = next === undefined ? undefined : byId.get(next);
    }
    return {
      start: Math.round(task.start),
      duration: Math.round(task.duration),
      samples: ids.length,
      busyMs: Math.round(busyUs / 1000),
      self: selfTop,
      path,
    };
  });
}

/**
 * Spans in which the thread ran without an idle sample for longer than `minMs` (the main thread's
 * own long work, JS or native "(program)", whether or not a longtask entry covers it), longest first.
 */
export function busySpans(profile: CpuProfile, pageAtProfileStart: number, minMs = 50): TaskWindow[] {
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const spans: TaskWindow[] = [];
  let t = profile.startTime;
  let from: number | undefined;
  const close = (end: number) => {
    if (from !== undefined && (end - from) / 1000 > minMs)
      spans.push({ start: pageAtProfileStart + (from - profile.startTime) / 1000, duration: (end - from) / 1000 });
    from = undefined;
  };
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i] ?? 0;
    if (idle.has(id)) close(t);
    else from ??= t;
  });
  close(t);
  return spans.sort((a, b) => b.duration - a.duration);
}
