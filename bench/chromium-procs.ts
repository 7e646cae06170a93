/**
 * /proc readings of the Chromium processes a benchmark launched (Linux only): every descendant of
 * this Node process except the subtrees of excluded pids (the static server). CPU seconds (utime +
 * stime) and memory — Pss from /proc/<pid>/smaps_rollup (shared pages split between the processes
 * that map them, so the sum counts each page once) and RSS from /proc/<pid>/statm — summed over the
 * processes, plus the largest single process (the renderer that hosts the page and its Worker).
 * A MemorySampler polls every `everyMs` and keeps the peak since its last reset.
 */
import { readdirSync, readFileSync } from 'node:fs';

interface Proc {
  pid: number;
  ppid: number;
  ticks: number;
}

const PAGE = 4096;
const TICKS = 100;

function allProcs(): Proc[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((pid) => {
      try {
        // fields after the ")" of the command name: state ppid ... utime(14) stime(15)
        const rest = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1)!.split(' ');
        return [{ pid: Number(pid), ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) }];
      } catch {
        return [];
      }
    });
}

/** Descendants of this process, minus the subtrees rooted at `exclude`. */
function descendants(procs: Proc[], exclude: readonly number[]): Proc[] {
  const mine = new Set([process.pid]);
  const skip = new Set(exclude);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs)
      if (!mine.has(p.pid) && !skip.has(p.pid) && mine.has(p.ppid)) {
        mine.add(p.pid);
        grew = true;
      }
  }
  return procs.filter((p) => p.pid !== process.pid && mine.has(p.pid));
}

/** CPU seconds used so far by the launched processes (ones that exited are not counted). */
export function cpuSeconds(exclude: readonly number[]): number {
  return descendants(allProcs(), exclude).reduce((a, p) => a + p.ticks, 0) / TICKS;
}

export interface MemoryReading {
  pssBytes: number;
  rssBytes: number;
  /** The largest process by RSS. */
  topRssBytes: number;
  processes: number;
}

function kb(text: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

export function readMemory(exclude: readonly number[]): MemoryReading {
  const r: MemoryReading = { pssBytes: 0, rssBytes: 0, topRssBytes: 0, processes: 0 };
  for (const p of descendants(allProcs(), exclude)) {
    try {
      const rss = Number(readFileSync(`/proc/${p.pid}/statm`, 'utf8').split(' ')[1]) * PAGE;
      const pss = kb(readFileSync(`/proc/${p.pid}/smaps_rollup`, 'utf8'), 'Pss');
      r.pssBytes += pss;
      r.rssBytes += rss;
      r.topRssBytes = Math.max(r.topRssBytes, rss);
      r.processes++;
    } catch {
      // the process exited between the listing and the read
    }
  }
  return r;
}

/**
 * The `n` anonymous writable mappings with the most Pss over the launched processes (MB each): a
 * wasm heap is one such mapping the size of its committed memory, and a large ArrayBuffer another.
 * Reads every mapping of every process (slow: for traces only).
 */
export function largestMappings(exclude: readonly number[], n = 6): { pid: number; sizeMb: number; pssMb: number }[] {
  return anonymousMappings(exclude)
    .sort((x, y) => y.pssMb - x.pssMb)
    .slice(0, n);
}

/** Pss MB of each launched process, largest first, and how much of it lies in anonymous writable mappings. */
export function processPss(exclude: readonly number[]): { pid: number; pssMb: number; anonymousMb: number }[] {
  const anonymous = new Map<number, number>();
  for (const m of anonymousMappings(exclude)) anonymous.set(m.pid, (anonymous.get(m.pid) ?? 0) + m.pssKb);
  return descendants(allProcs(), exclude)
    .flatMap((p) => {
      try {
        const pss = kb(readFileSync(`/proc/${p.pid}/smaps_rollup`, 'utf8'), 'Pss');
        return [{ pid: p.pid, pssMb: Math.round(pss / 2 ** 20), anonymousMb: Math.round((anonymous.get(p.pid) ?? 0) / 1024) }];
      } catch {
        return [];
      }
    })
    .sort((x, y) => y.pssMb - x.pssMb);
}

function anonymousMappings(exclude: readonly number[]): { pid: number; sizeMb: number; pssMb: number; pssKb: number }[] {
  const found: { pid: number; sizeMb: number; pssMb: number; pssKb: number }[] = [];
  for (const p of descendants(allProcs(), exclude)) {
    let text: string;
    try {
      text = readFileSync(`/proc/${p.pid}/smaps`, 'utf8');
    } catch {
      continue;
    }
    let current: { pid: number; sizeMb: number; pssMb: number; pssKb: number } | undefined;
    for (const line of text.split('\n')) {
      const head = /^([0-9a-f]+)-([0-9a-f]+) rw-p \S+ \S+ 0\s*$/.exec(line);
      if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) current = undefined;
      if (head) {
        const size = Number(BigInt(`0x${head[2]}`) - BigInt(`0x${head[1]}`));
        current = { pid: p.pid, sizeMb: Math.round(size / 2 ** 20), pssMb: 0, pssKb: 0 };
        found.push(current);
      } else if (current && line.startsWith('Pss:')) {
        current.pssKb = kb(line, 'Pss') / 1024;
        current.pssMb = Math.round(current.pssKb / 1024);
      }
    }
  }
  return found;
}

/** Polls readMemory; `peak` holds the per-field maxima since the last reset, `last` the latest reading. */
export class MemorySampler {
  peak: MemoryReading = { pssBytes: 0, rssBytes: 0, topRssBytes: 0, processes: 0 };
  last: MemoryReading = { ...this.peak };
  /** When set, every sample's time (performance.now()) and Pss are appended (a step's memory timeline). */
  series: { t: number; pssBytes: number; maps?: string }[] | undefined;
  /** With a series: also each sample's largest anonymous mappings, as `Pss/size` MB (slow; SCALE_TRACE_MAPS). */
  withMappings = false;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly exclude: readonly number[],
    private readonly everyMs = 200,
  ) {}

  sample(): MemoryReading {
    const r = readMemory(this.exclude);
    this.last = r;
    const maps =
      this.series && this.withMappings
        ? `${largestMappings(this.exclude, 3)
            .map((m) => `${m.pssMb}/${m.sizeMb}`)
            .join(' ')}; processes ${processPss(this.exclude)
            .slice(0, 3)
            .map((p) => `${p.pssMb} (anon ${p.anonymousMb})`)
            .join(' ')}`
        : undefined;
    this.series?.push({ t: performance.now(), pssBytes: r.pssBytes, ...(maps ? { maps } : {}) });
    this.peak = {
      pssBytes: Math.max(this.peak.pssBytes, r.pssBytes),
      rssBytes: Math.max(this.peak.rssBytes, r.rssBytes),
      topRssBytes: Math.max(this.peak.topRssBytes, r.topRssBytes),
      processes: Math.max(this.peak.processes, r.processes),
    };
    return r;
  }

  start(): void {
    this.reset();
    this.timer = setInterval(() => this.sample(), this.everyMs);
  }

  reset(): void {
    this.peak = { pssBytes: 0, rssBytes: 0, topRssBytes: 0, processes: 0 };
    this.sample();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
