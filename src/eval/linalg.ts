/**
 * Dense symmetric positive-definite solves in float64, for BSS-Eval's distortion-filter normal
 * equations (Gram matrices of delayed reference signals).
 *
 * mir_eval calls `np.linalg.solve` (LU) and falls back to `lstsq` when the matrix is exactly
 * singular. The Gram matrix is symmetric positive (semi)definite, so a Cholesky factorisation
 * gives the same solution (to rounding) at half the cost. The projection these solutions define
 * is unique even when the matrix is singular, which is why the semidefinite case can be handled
 * with a tiny diagonal load (see `choleskyFactor`) without changing the metrics beyond rounding.
 */

/** Lower-triangular Cholesky factor, row-major [shape=(n, n)]. */
export interface CholeskyFactor {
  readonly n: number;
  readonly lower: Float64Array;
  /** Diagonal load that had to be added (0 for a positive-definite matrix). */
  readonly loading: number;
}

function tryCholesky(a: Float64Array, n: number, loading: number): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const rowI = i * n;
    for (let j = 0; j <= i; j++) {
      const rowJ = j * n;
      // Dot product of the two row prefixes, 4 accumulators (the hot loop: n^3/6 multiply-adds).
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let k = 0;
      for (; k + 3 < j; k += 4) {
        s0 += l[rowI + k] * l[rowJ + k];
        s1 += l[rowI + k + 1] * l[rowJ + k + 1];
        s2 += l[rowI + k + 2] * l[rowJ + k + 2];
        s3 += l[rowI + k + 3] * l[rowJ + k + 3];
      }
      for (; k < j; k++) s0 += l[rowI + k] * l[rowJ + k];
      let sum = a[rowI + j] - (s0 + s1 + (s2 + s3));
      if (i === j) {
        sum += loading;
        if (!(sum > 0)) return null;
        l[rowI + i] = Math.sqrt(sum);
      } else {
        l[rowI + j] = sum / l[rowJ + j];
      }
    }
  }
  return l;
}

/**
 * Factors a symmetric matrix `a` (row-major, only the lower triangle is read). If it is not
 * numerically positive definite, retries with a diagonal load growing from 1e-12 of the mean
 * diagonal, which selects (approximately) the minimum-norm solution like mir_eval's `lstsq`
 * fallback.
 */
export function choleskyFactor(a: Float64Array, n: number): CholeskyFactor {
  const direct = tryCholesky(a, n, 0);
  if (direct) return { n, lower: direct, loading: 0 };
  let trace = 0;
  for (let i = 0; i < n; i++) trace += a[i * n + i];
  const meanDiag = trace / Math.max(1, n);
  for (let rel = 1e-12; rel <= 1e-3; rel *= 10) {
    const loading = Math.max(rel * meanDiag, Number.MIN_VALUE);
    const l = tryCholesky(a, n, loading);
    if (l) return { n, lower: l, loading };
  }
  throw new RangeError('Gram matrix is not positive semidefinite (non-finite input?)');
}

/** Solves `L L^T x = b`; returns x. */
export function choleskySolve(factor: CholeskyFactor, b: Float64Array): Float64Array {
  const { n, lower: l } = factor;
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i];
    const row = i * n;
    for (let k = 0; k < i; k++) sum -= l[row + k] * y[k];
    y[i] = sum / l[row + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i];
    for (let k = i + 1; k < n; k++) sum -= l[k * n + i] * x[k];
    x[i] = sum / l[i * n + i];
  }
  return x;
}
