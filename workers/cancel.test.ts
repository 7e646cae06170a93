/** The worker's cancellable Runner keeps what its inner runner says about reading external data (core/runner.ts flags). */
import { describe, expect, it } from 'vitest';
import type { Runner } from '../src/core/runner';
import { cancellableRunner } from './cancel';

const open: Runner['open'] = () => Promise.reject(new Error('not opened in this test'));

describe('cancellableRunner', () => {
  it('keeps the external-data flags of the runner it wraps', () => {
    expect(cancellableRunner({ open, readsExternalDataBySubarray: true }).readsExternalDataBySubarray).toBe(true);
    expect(cancellableRunner({ open, readsStoredFiles: true }).readsStoredFiles).toBe(true);
    const plain = cancellableRunner({ open });
    expect(plain.readsExternalDataBySubarray).toBeUndefined();
    expect(plain.readsStoredFiles).toBeUndefined();
  });
});
