/** --compensate redistribute options (parsed without starting the CLI). */
import { describe, expect, it } from 'vitest';
import { parseArgs } from './args';
import { compensationOptions } from './prune';

describe('compensationOptions', () => {
  it('reads --redistribute-rank, --redistribute-ridge and --redistribute-intercept', () => {
    const args = parseArgs([
      'prune',
      '--compensate',
      'redistribute',
      '--redistribute-rank',
      '16',
      '--redistribute-ridge',
      '0.1',
      '--redistribute-intercept',
    ]);
    expect(compensationOptions(args)).toEqual({ rank: 16, ridge: 0.1, intercept: true });
  });

  it('is empty without them (the method defaults apply)', () => {
    expect(compensationOptions(parseArgs(['prune', '--compensate', 'redistribute']))).toEqual({});
  });
});
