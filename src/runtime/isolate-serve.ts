/**
 * The child side of an isolated Runner: serves open / run / release requests on `port` with
 * `runner` (onnxruntime-web in the child realm). Output arrays are transferred back, not copied.
 */
import { serializeError } from '../core/errors';
import type { Runner, RunnerSession, RunnerTensor } from '../core/runner';
import type { IsolatePort, IsolateReply, IsolateRequest, OpenedSession } from './isolate-protocol';

function transferables(out: Record<string, RunnerTensor>): Transferable[] {
  const buffers = new Set<ArrayBuffer>();
  for (const t of Object.values(out)) if (t.data.buffer instanceof ArrayBuffer) buffers.add(t.data.buffer);
  return [...buffers];
}

export function serveRunner(runner: Runner, port: IsolatePort<IsolateRequest, IsolateReply>): void {
  const sessions = new Map<number, RunnerSession>();
  let next = 1;
  const handle = async (req: IsolateRequest): Promise<[unknown, Transferable[]]> => {
    if (req.op === 'open') {
      const s = await runner.open(req.model, req.options);
      const id = next++;
      sessions.set(id, s);
      const opened: OpenedSession = { session: id, inputNames: [...s.inputNames], outputNames: [...s.outputNames], backend: s.backend };
      return [opened, []];
    }
    const s = sessions.get(req.session);
    if (!s) throw new Error(`isolated session ${req.session} is not open`);
    if (req.op === 'run') {
      const out = await s.run(req.feeds, req.outputs);
      return [out, transferables(out)];
    }
    sessions.delete(req.session);
    await s.release();
    return [undefined, []];
  };
  port.onMessage((req) => {
    handle(req).then(
      ([value, transfer]) => port.post({ id: req.id, ok: true, value }, transfer),
      (e: unknown) => port.post({ id: req.id, ok: false, error: serializeError(e) }, []),
    );
  });
}
