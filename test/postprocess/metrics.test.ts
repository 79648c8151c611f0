import { describe, expect, it } from 'vitest';
import { beatFMeasure, countMatches, medianTempoBpm, mirexKeyScore, tempoAccuracy } from '../../src/postprocess/metrics.js';
import { rng } from './helpers.js';

/** Maximum matching by exhaustive search (tiny inputs), to check the greedy scan. */
function bruteForceMatches(a: number[], b: number[], w: number): number {
  const best = (i: number, used: Set<number>): number => {
    if (i === a.length) return 0;
    let m = best(i + 1, used);
    for (let j = 0; j < b.length; j++) {
      if (!used.has(j) && Math.abs(a[i] - b[j]) <= w) {
        used.add(j);
        m = Math.max(m, 1 + best(i + 1, used));
        used.delete(j);
      }
    }
    return m;
  };
  return best(0, new Set());
}

describe('beatFMeasure (as mir_eval.beat.f_measure)', () => {
  it('scores hand-computed cases', () => {
    expect(beatFMeasure([1, 2, 3, 4], [1, 2, 3, 4])).toBe(1);
    // 3 of 4 estimates within 70 ms of 3 of 4 references: P = R = 0.75.
    expect(beatFMeasure([1, 2, 3, 4], [1.05, 1.95, 3.2, 4.06])).toBeCloseTo(0.75, 12);
    // P = 2/2, R = 2/4 -> F = 2/3.
    expect(beatFMeasure([1, 2, 3, 4], [1, 2])).toBeCloseTo(2 / 3, 12);
    expect(beatFMeasure([], [1])).toBe(0);
    expect(beatFMeasure([1], [])).toBe(0);
  });

  it('greedy matching equals a maximum matching', () => {
    const r = rng(11);
    for (let trial = 0; trial < 200; trial++) {
      const a = Array.from({ length: 1 + Math.floor(r() * 6) }, () => r() * 1.0);
      const b = Array.from({ length: 1 + Math.floor(r() * 6) }, () => r() * 1.0);
      expect(countMatches(a, b, 0.1)).toBe(bruteForceMatches(a, b, 0.1));
    }
  });
});

describe('tempo accuracy', () => {
  it('median tempo and ACC1/ACC2', () => {
    expect(medianTempoBpm([0, 0.5, 1, 1.6, 2.1])).toBeCloseTo(120, 9);
    expect(tempoAccuracy(120, 123)).toEqual({ acc1: true, acc2: true });
    expect(tempoAccuracy(120, 60)).toEqual({ acc1: false, acc2: true });
    expect(tempoAccuracy(120, 90)).toEqual({ acc1: false, acc2: false });
  });
});

describe('mirexKeyScore (as mir_eval.key.weighted_score)', () => {
  const C = 0;
  const G = 7;
  const F = 5;
  const A = 9;
  it('weights the relationships', () => {
    expect(mirexKeyScore({ tonicPc: C, mode: 'major' }, { tonicPc: C, mode: 'major' })).toBe(1);
    expect(mirexKeyScore({ tonicPc: C, mode: 'major' }, { tonicPc: G, mode: 'major' })).toBe(0.5);
    expect(mirexKeyScore({ tonicPc: C, mode: 'major' }, { tonicPc: F, mode: 'major' })).toBe(0);
    expect(mirexKeyScore({ tonicPc: C, mode: 'major' }, { tonicPc: F, mode: 'major' }, true)).toBe(0.5);
    expect(mirexKeyScore({ tonicPc: C, mode: 'major' }, { tonicPc: A, mode: 'minor' })).toBe(0.3);
    expect(mirexKeyScore({ tonicPc: A, mode: 'minor' }, { tonicPc: C, mode: 'major' })).toBe(0.3);
    expect(mirexKeyScore({ tonicPc: C, mode: 'major' }, { tonicPc: C, mode: 'minor' })).toBe(0.2);
    expect(mirexKeyScore({ tonicPc: C, mode: 'major' }, { tonicPc: 1, mode: 'major' })).toBe(0);
  });
});
