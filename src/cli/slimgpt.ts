/**
 * CLI `slimgpt`: SlimGPT (layer-wise structured OBS, sequential calibration) through the same api
 * call the UI makes (StudioApi.slimGptPrune), printing each layer to stderr and writing the
 * verified export bundle to --out, with perplexity and interleaved latency like `prune`.
 */
import { InputError } from '../core/errors';
import { SLIMGPT_ALLOCATIONS, type SlimGptAllocation, type StudioApi } from '../api';
import { numberFlag, stringFlag, type ParsedArgs } from './args';
import { calibrateFromArgs, measureAndExport, perplexityRequest } from './prune';

export const SLIMGPT_USAGE = `  prune-studio slimgpt --model <dir> --ratio <r> [--heads r] [--ffn r] [--allocation ${SLIMGPT_ALLOCATIONS.join('|')}]
                     [--calib <file>] [--samples 16] [--seq 128] [--text <file>] [--max-tokens 8192] [--runs 10] --out <dir>`;

export async function slimGptCommand(api: StudioApi, args: ParsedArgs) {
  const allocation = stringFlag(args, 'allocation', 'uniform') as SlimGptAllocation;
  if (!SLIMGPT_ALLOCATIONS.includes(allocation))
    throw new InputError(`--allocation must be one of ${SLIMGPT_ALLOCATIONS.join(', ')} for slimgpt, got "${allocation}".`);
  const ratio = numberFlag(args, 'ratio', 0.5);
  const calibration = await calibrateFromArgs(api, args, false);
  const result = await api.slimGptPrune(
    { heads: numberFlag(args, 'heads', ratio), ffn: numberFlag(args, 'ffn', ratio), allocation, perplexity: perplexityRequest(args) },
    {
      onLayer: (l) =>
        process.stderr.write(
          `layer ${l.layer}: heads ${l.headOrder.join(' -> ') || '-'}, ${l.removedFfn.length} FFN channels in groups ${l.ffnGroups.join('+') || '-'} (${(l.ms / 1000).toFixed(1)} s)\n`,
        ),
    },
  );
  const summary = await measureAndExport(api, args, result.applied);
  return { ...summary, calibration, layers: result.layers.map(({ headErrors: _e, ...rest }) => rest), ms: result.ms };
}
