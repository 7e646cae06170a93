/**
 * CLI `iterate`: iterative prune-and-recover through the same api call the UI makes
 * (StudioApi.iterativePrune), printing each round's perplexity to stderr and writing the
 * verified export bundle to --out.
 */
import { InputError } from '../core/errors';
import { getCriterion, getRecovery, RECOVERIES, type CriterionName, type Recovery, type StudioApi } from '../api';
import { numberFlag, stringFlag, type ParsedArgs } from './args';
import { exportRequest, writeBundle } from './bundle';
import { calibrateFromArgs, heldOutPerplexity, perplexityRequest } from './prune';

export const ITERATE_USAGE = `  prune-studio iterate --model <dir> --criterion <name> --ratio <r> [--heads r] [--ffn r] [--rounds n (default: ~12.5% per round)]
                     [--recovery ${RECOVERIES.join('|')}] [--sgd-steps 10] [--lr 0.05] [--train-steps 10] [--train-lr 2e-4]
                     [--calib <file>] [--samples 16] [--seq 128] [--text <file>] [--max-tokens 4096] --out <dir>`;

export async function iterateCommand(api: StudioApi, args: ParsedArgs) {
  const criterion = getCriterion(stringFlag(args, 'criterion', 'taylor'));
  const recovery = stringFlag(args, 'recovery', 'obs') as Recovery;
  if (!RECOVERIES.includes(recovery)) throw new InputError(`--recovery must be one of ${RECOVERIES.join(', ')}, got "${recovery}".`);
  const ratio = numberFlag(args, 'ratio', 0.5);
  const heads = numberFlag(args, 'heads', ratio);
  const ffn = numberFlag(args, 'ffn', ratio);
  const out = stringFlag(args, 'out');
  const format = exportRequest(args);
  const calibration = await calibrateFromArgs(api, args, criterion.needs.gram || getRecovery(recovery).needs.hessians);
  const perplexity = perplexityRequest(args, 4096);
  const result = await api.iterativePrune(
    {
      criterion: criterion.name as CriterionName,
      heads,
      ffn,
      ...(args.flags.has('rounds') ? { rounds: numberFlag(args, 'rounds', 3) } : {}),
      recovery,
      sgdSteps: numberFlag(args, 'sgd-steps', 10),
      sgdLearningRate: numberFlag(args, 'lr', 0.05),
      ...(getRecovery(recovery).needs.training
        ? { training: { steps: numberFlag(args, 'train-steps', 10), learningRate: numberFlag(args, 'train-lr', 2e-4) } }
        : {}),
      perplexity,
    },
    {
      onRound: (r) =>
        process.stderr.write(
          `round ${r.round}/${r.rounds}: ${r.headsRemoved}/${r.headsTotal} heads, ${r.ffnRemoved}/${r.ffnTotal} FFN neurons removed, perplexity ${r.perplexity.toFixed(3)}\n`,
        ),
    },
  );
  const heldOut = await heldOutPerplexity(api, args, 4096);
  const bundle = await writeBundle(api, out, format);
  return {
    ...bundle,
    calibration,
    plan: result.plan.name,
    recovery: result.applied.recovery,
    parameters: { dense: result.applied.denseCost.parameters, pruned: result.applied.parameters },
    rounds: result.rounds,
    perplexity: {
      pruned: result.perplexity.perplexity,
      dense: result.rounds[0]?.perplexity,
      protocol: result.perplexity.protocol,
      ...(heldOut ? { heldOut } : {}),
    },
  };
}
