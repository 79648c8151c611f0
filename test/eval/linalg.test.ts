import { describe, expect, it } from 'vitest';
import { blockToeplitzFactor, blockToeplitzSolve, choleskyFactor, choleskySolve } from '../../src/eval/linalg.js';

/** Deterministic LCG noise. */
function noise(n: number, seed: number): Float64Array {
  let s = seed;
  return Float64Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  });
}

/** Lag blocks R(d)[i][j] = sum_t x_i[t + d] x_j[t] of K signals, d = 0..nbLags-1 (zero-padded). */
function lagBlocks(signals: Float64Array[], nbLags: number): Float64Array[] {
  const k = signals.length;
  const len = signals[0].length;
  return Array.from({ length: nbLags }, (_, d) => {
    const m = new Float64Array(k * k);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        let s = 0;
        for (let t = 0; t + d < len; t++) s += signals[i][t + d] * signals[j][t];
        m[i * k + j] = s;
      }
    }
    return m;
  });
}

function dense(r: Float64Array[], k: number): Float64Array {
  const nb = r.length;
  const n = nb * k;
  const g = new Float64Array(n * n);
  for (let a = 0; a < nb; a++) {
    for (let b = 0; b < nb; b++) {
      const d = b - a;
      const m = r[Math.abs(d)];
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) g[(a * k + i) * n + b * k + j] = d >= 0 ? m[i * k + j] : m[j * k + i];
    }
  }
  return g;
}

describe('Function: blockToeplitzSolve', () => {
  it('matches a dense Cholesky solve on a block-Toeplitz Gram matrix', () => {
    const k = 3;
    const nb = 40;
    const r = lagBlocks([noise(300, 1), noise(300, 2), noise(300, 3)], nb);
    const fac = blockToeplitzFactor(r, k);
    expect(fac).not.toBeNull();
    const y = noise(nb * k, 9);
    const x = blockToeplitzSolve(fac as NonNullable<typeof fac>, y) as Float64Array;
    const n = nb * k;
    const xd = choleskySolve(choleskyFactor(dense(r, k), n), y);
    let err = 0;
    let ref = 0;
    for (let i = 0; i < n; i++) {
      err += (x[i] - xd[i]) ** 2;
      ref += xd[i] ** 2;
    }
    expect(Math.sqrt(err / ref)).toBeLessThan(1e-9);
  });

  it('reports a singular system (duplicated signal) instead of returning garbage', () => {
    const s = noise(200, 4);
    const r = lagBlocks([s, s], 16);
    const fac = blockToeplitzFactor(r, 2);
    expect(fac === null || blockToeplitzSolve(fac, noise(32, 5)) === null).toBe(true);
  });
});
