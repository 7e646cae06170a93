/** Classifier metrics against hand-computed numbers. */
import { describe, expect, it } from 'vitest';
import { AccuracyAccumulator, argmax, classifierAccuracy, crossEntropy, flippedPredictions, wilsonInterval } from './accuracy';

describe('wilsonInterval', () => {
  it('matches hand-computed values', () => {
    // k = 8, n = 10, z = 1.959963984540054: p = 0.8, z² = 3.841459, centre = (0.8 + 0.192073) / 1.384146 = 0.716738,
    // half = (1.959964 / 1.384146) · sqrt(0.016 + 0.009604) = 1.416010 · 0.160012 = 0.226578.
    const [lo, hi] = wilsonInterval(8, 10);
    expect(lo).toBeCloseTo(0.490162, 5);
    expect(hi).toBeCloseTo(0.943318, 5);
    // k = 0, n = 4: centre = half = (z²/8) / (1 + z²/4) = 0.480182 / 1.960365 = 0.244945.
    const [lo0, hi0] = wilsonInterval(0, 4);
    expect(lo0).toBeCloseTo(0, 12);
    expect(hi0).toBeCloseTo(0.489891, 5);
    expect(wilsonInterval(0, 0)).toEqual([0, 1]);
    expect(() => wilsonInterval(3, 2)).toThrow(/0 <= k <= n/);
  });

  it('is symmetric around 1/2 and narrows with n', () => {
    const [a, b] = wilsonInterval(30, 100);
    const [c, d] = wilsonInterval(70, 100);
    expect(a).toBeCloseTo(1 - d, 12);
    expect(b).toBeCloseTo(1 - c, 12);
    const [e, f] = wilsonInterval(300, 1000);
    expect(f - e).toBeLessThan(b - a);
  });
});

describe('classifier accuracy', () => {
  // 4 images, 3 labels. Predictions: 2, 0, 1 (tie 1 = 1 > 0 → first max), 1; labels 2, 1, 1, 0.
  const logits = [0, 1, 3, 2, 0, 0, 0, 5, 5, 1, 2, 1];
  const labels = [2, 1, 1, 0];

  it('argmax takes the first maximum; cross-entropy is logsumexp - logit', () => {
    expect(argmax([0, 5, 5], 0, 3)).toBe(1);
    // row [0, 1, 3], label 2: log(1 + e + e³) - 3 = log(23.803819) - 3 = 0.169846
    expect(crossEntropy([0, 1, 3], 0, 3, 2)).toBeCloseTo(0.169846, 6);
    expect(crossEntropy([1000, 0], 0, 2, 1)).toBeCloseTo(1000, 9);
  });

  it('accuracy, interval, mean loss and confusion matrix', () => {
    const r = classifierAccuracy(logits, labels, 3);
    expect(r.predictions).toEqual([2, 0, 1, 1]);
    expect(r.correct).toBe(2);
    expect(r.accuracy).toBe(0.5);
    // Wilson 2/4: centre 0.5, half = (1.959964 / 1.960365) · sqrt(0.0625 + 0.060025) = 0.999796 · 0.350036 = 0.349961
    expect(r.interval95[0]).toBeCloseTo(0.150039, 5);
    expect(r.interval95[1]).toBeCloseTo(0.849961, 5);
    // losses: 0.169846; log(e² + 2) - 0 = 2.239545; log(1 + 2e⁵) - 5 = 0.696510; log(2e + e²) - 1 = 1.551445
    expect(r.meanLoss).toBeCloseTo((0.169846 + 2.2395448 + 0.6965105 + 1.5514447) / 4, 6);
    expect(r.confusion).toEqual([
      [0, 1, 0],
      [1, 1, 0],
      [0, 0, 1],
    ]);
  });

  it('streams batches into the same result', () => {
    const acc = new AccuracyAccumulator(3);
    acc.add(logits.slice(0, 6), labels.slice(0, 2));
    acc.add(logits.slice(6), labels.slice(2));
    expect(acc.result()).toEqual(classifierAccuracy(logits, labels, 3));
  });

  it('refuses bad input by name', () => {
    expect(() => classifierAccuracy(logits, [2, 1, 1], 3)).toThrow(/expected 9/);
    expect(() => classifierAccuracy(logits, [2, 1, 3, 0], 3)).toThrow(/Label 3 of image 2/);
    expect(() => classifierAccuracy([NaN, 0, 0], [0], 3)).toThrow(/non-finite/);
    expect(() => new AccuracyAccumulator(3).result()).toThrow(/No images/);
  });

  it('lists the images whose prediction flipped', () => {
    expect(flippedPredictions([2, 0, 1, 1], [2, 1, 1, 0], labels)).toEqual([
      { index: 1, label: 1, before: 0, after: 1 },
      { index: 3, label: 0, before: 1, after: 0 },
    ]);
  });
});
