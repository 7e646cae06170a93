import { describe, expect, it } from 'vitest';
import { ownTasks, type TraceEvent } from './trace-tasks';

const PID = 7;
const TID = 7;
const ORIGIN = 'http://127.0.0.1:4451';

/** A trace whose page time 0 is trace time 1e6 µs; samples every 1 ms from page time 100 ms. */
function trace(kinds: ('app' | 'pw' | 'gc' | 'program' | 'idle')[]): TraceEvent[] {
  const node = { app: 2, pw: 3, gc: 4, program: 5, idle: 6 } as const;
  const nodes = [
    { id: 1, callFrame: { functionName: '(root)' } },
    { id: 2, parent: 1, callFrame: { functionName: 'render', url: `${ORIGIN}/assets/index.js` } },
    { id: 3, parent: 1, callFrame: { functionName: 'toAriaNode', url: '' } },
    { id: 4, parent: 1, callFrame: { functionName: '(garbage collector)' } },
    { id: 5, parent: 1, callFrame: { functionName: '(program)' } },
    { id: 6, parent: 1, callFrame: { functionName: '(idle)' } },
  ];
  const origin = 1e6;
  return [
    { name: 'stalls-sync', ph: 'I', ts: origin + 500_000, pid: PID, tid: TID },
    { name: 'Profile', ph: 'P', ts: origin, pid: PID, tid: TID, id: '0x1', args: { data: { startTime: origin + 99_000 } } },
    {
      name: 'ProfileChunk',
      ph: 'P',
      ts: origin,
      pid: PID,
      tid: 99,
      id: '0x1',
      args: { data: { cpuProfile: { nodes, samples: kinds.map((k) => node[k]) }, timeDeltas: kinds.map(() => 1000) } },
    },
    { name: 'Layout', ph: 'X', ts: origin + 110_000, dur: 5_000, pid: PID, tid: TID },
    { name: 'Layout', ph: 'X', ts: origin + 110_000, dur: 5_000, pid: PID, tid: 8 },
  ];
}

describe('ownTasks', () => {
  it('names the owner of a window by the larger share of its main-thread samples', () => {
    const kinds = [...Array<'app'>(20).fill('app'), ...Array<'pw'>(30).fill('pw'), ...Array<'idle'>(10).fill('idle')];
    const [app, bench] = ownTasks(
      trace(kinds),
      [
        { start: 100, duration: 20 },
        { start: 120, duration: 30 },
      ],
      'stalls-sync',
      500,
      ORIGIN,
    );
    expect(app!.owner).toBe('app');
    expect(app!.samplesMs.app).toBeCloseTo(20, 5);
    expect(app!.events).toEqual({ Layout: 5 });
    expect(bench!.owner).toBe('bench (playwright)');
    expect(bench!.samplesMs.otherJs).toBeCloseTo(30, 5);
    expect(bench!.samplesMs.app).toBe(0);
  });

  it('counts GC and native samples apart, and idle samples not at all', () => {
    const kinds = [...Array<'gc'>(5).fill('gc'), ...Array<'program'>(10).fill('program'), ...Array<'idle'>(10).fill('idle')];
    const [task] = ownTasks(trace(kinds), [{ start: 100, duration: 25 }], 'stalls-sync', 500, ORIGIN);
    expect(task!.owner).toBe('native');
    expect(task!.samplesMs).toEqual({ app: 0, otherJs: 0, gc: 5, native: 10 });
  });
});
