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

/**
 * Inverse factorisation of a symmetric positive-definite block-Toeplitz matrix
 * T[a][b] = R(b - a) (a, b = 0..N-1 blocks of K x K, R(-d) = R(d)^T), by the multichannel
 * Levinson recursion (Whittle 1963; Wiggins & Robinson 1965): the backward predictors
 * G(n) satisfy G(n) T_n = [0 .. 0 Q_n], so T^-1 = L^T diag(Q^-1) L with L's block rows G(n).
 * O(N^2 K^3) instead of the dense Cholesky's O(N^3 K^3 / 6): 512-tap BSS-Eval filters for four
 * sources take ~0.1 s instead of seconds. Levinson is only weakly stable, so `blockToeplitzSolve`
 * applies one step of iterative refinement with an exact residual.
 */
export interface BlockToeplitzFactor {
  readonly nbBlocks: number;
  readonly blockSize: number;
  /** R(d), d = 0..N-1, each K*K row-major. */
  readonly r: readonly Float64Array[];
  /** Block row n of L: G(n) as (n+1) blocks of K*K. */
  readonly rows: readonly Float64Array[];
  readonly qInv: readonly Float64Array[];
}

/** Inverse of a small SPD matrix (Gauss-Jordan); null when it is not numerically positive definite. */
function smallSpdInverse(m: Float64Array, k: number): Float64Array | null {
  // Positive definiteness check by a tiny Cholesky first.
  const l = tryCholesky(m, k, 0);
  if (!l) return null;
  for (let i = 0; i < k; i++) if (l[i * k + i] < 1e-7 * Math.sqrt(Math.abs(m[i * k + i])) || m[i * k + i] <= 0) return null;
  const inv = new Float64Array(k * k);
  for (let c = 0; c < k; c++) {
    const e = new Float64Array(k);
    e[c] = 1;
    const x = choleskySolve({ n: k, lower: l, loading: 0 }, e);
    for (let r = 0; r < k; r++) inv[r * k + c] = x[r];
  }
  return inv;
}

/** out += a * b (K x K). */
function mulAdd(out: Float64Array, a: Float64Array, aOff: number, b: Float64Array, bOff: number, k: number, transposeB: boolean): void {
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += a[aOff + i * k + t] * (transposeB ? b[bOff + j * k + t] : b[bOff + t * k + j]);
      out[i * k + j] += s;
    }
  }
}

function matMul(a: Float64Array, b: Float64Array, k: number): Float64Array {
  const out = new Float64Array(k * k);
  mulAdd(out, a, 0, b, 0, k, false);
  return out;
}

/** Returns null when a prediction-error covariance stops being positive definite (singular T). */
export function blockToeplitzFactor(r: readonly Float64Array[], k: number): BlockToeplitzFactor | null {
  const nb = r.length;
  const kk = k * k;
  const identity = new Float64Array(kk);
  for (let i = 0; i < k; i++) identity[i * k + i] = 1;
  let f = Float64Array.from(identity); // forward predictor, (n+1) blocks
  let g = Float64Array.from(identity); // backward predictor
  let p = Float64Array.from(r[0]);
  let q = Float64Array.from(r[0]);
  let qInvN = smallSpdInverse(q, k);
  if (!qInvN) return null;
  const rows: Float64Array[] = [g];
  const qInv: Float64Array[] = [qInvN];
  for (let n = 0; n + 1 < nb; n++) {
    const pInv = smallSpdInverse(p, k);
    if (!pInv) return null;
    // delta = sum_a F_a R(n+1-a); nabla = sum_a G_a R(-(a+1)) = sum_a G_a R(a+1)^T
    const delta = new Float64Array(kk);
    const nabla = new Float64Array(kk);
    for (let a = 0; a <= n; a++) {
      mulAdd(delta, f, a * kk, r[n + 1 - a], 0, k, false);
      mulAdd(nabla, g, a * kk, r[a + 1], 0, k, true);
    }
    const kf = matMul(delta, qInvN, k); // delta Q^-1
    const kb = matMul(nabla, pInv, k); // nabla P^-1
    const fNew = new Float64Array((n + 2) * kk);
    const gNew = new Float64Array((n + 2) * kk);
    fNew.set(f, 0);
    gNew.set(g, kk);
    // F_new[a] = F[a] - kf G[a-1];  G_new[a] = G[a-1] - kb F[a]  (inlined K x K products)
    for (let a = 0; a <= n + 1; a++) {
      const fo = a * kk;
      const go = (a - 1) * kk;
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < k; j++) {
          let sf = 0;
          let sg = 0;
          for (let t = 0; t < k; t++) {
            if (a >= 1) sf += kf[i * k + t] * g[go + t * k + j];
            if (a <= n) sg += kb[i * k + t] * f[fo + t * k + j];
          }
          fNew[fo + i * k + j] -= sf;
          gNew[fo + i * k + j] -= sg;
        }
      }
    }
    const pNew = Float64Array.from(p);
    const qNew = Float64Array.from(q);
    const dp = matMul(kf, nabla, k);
    const dq = matMul(kb, delta, k);
    for (let t = 0; t < kk; t++) {
      pNew[t] -= dp[t];
      qNew[t] -= dq[t];
    }
    // Symmetrise against rounding drift.
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < i; j++) {
        const ps = 0.5 * (pNew[i * k + j] + pNew[j * k + i]);
        pNew[i * k + j] = pNew[j * k + i] = ps;
        const qs = 0.5 * (qNew[i * k + j] + qNew[j * k + i]);
        qNew[i * k + j] = qNew[j * k + i] = qs;
      }
    }
    f = fNew;
    g = gNew;
    p = pNew;
    q = qNew;
    qInvN = smallSpdInverse(q, k);
    if (!qInvN) return null;
    rows.push(g);
    qInv.push(qInvN);
  }
  return { nbBlocks: nb, blockSize: k, r, rows, qInv };
}

/** y = T x for the block-Toeplitz T (x, y interleaved: index a*K + i). */
function blockToeplitzApply(fac: BlockToeplitzFactor, x: Float64Array): Float64Array {
  const { nbBlocks: nb, blockSize: k, r } = fac;
  const y = new Float64Array(nb * k);
  for (let a = 0; a < nb; a++) {
    for (let b = 0; b < nb; b++) {
      // T[a][b] = R(b-a) for b >= a, R(a-b)^T otherwise.
      const d = b - a;
      const m = r[Math.abs(d)];
      for (let i = 0; i < k; i++) {
        let s = 0;
        if (d >= 0) for (let j = 0; j < k; j++) s += m[i * k + j] * x[b * k + j];
        else for (let j = 0; j < k; j++) s += m[j * k + i] * x[b * k + j];
        y[a * k + i] += s;
      }
    }
  }
  return y;
}

function blockToeplitzSolveOnce(fac: BlockToeplitzFactor, y: Float64Array): Float64Array {
  const { nbBlocks: nb, blockSize: k, rows, qInv } = fac;
  const kk = k * k;
  const z = new Float64Array(nb * k);
  for (let n = 0; n < nb; n++) {
    const row = rows[n];
    const w = new Float64Array(k);
    for (let a = 0; a <= n; a++) {
      for (let i = 0; i < k; i++) {
        let s = 0;
        for (let j = 0; j < k; j++) s += row[a * kk + i * k + j] * y[a * k + j];
        w[i] += s;
      }
    }
    const qi = qInv[n];
    for (let i = 0; i < k; i++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += qi[i * k + j] * w[j];
      z[n * k + i] = s;
    }
  }
  const x = new Float64Array(nb * k);
  for (let n = 0; n < nb; n++) {
    const row = rows[n];
    for (let a = 0; a <= n; a++) {
      for (let j = 0; j < k; j++) {
        let s = 0;
        for (let i = 0; i < k; i++) s += row[a * kk + i * k + j] * z[n * k + i];
        x[a * k + j] += s;
      }
    }
  }
  return x;
}

/** Largest relative residual |y - T x| / |y| accepted from the Levinson solve. */
const MAX_RELATIVE_RESIDUAL = 1e-12;
const MAX_PCG_ITERATIONS = 40;

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Solves T x = y (interleaved layout: index a*K + i). The Levinson inverse alone loses digits
 * when T is ill-conditioned, so it serves as the preconditioner of a conjugate-gradient
 * iteration on the exact T (it is symmetric positive definite by construction), run until the
 * true relative residual is below `MAX_RELATIVE_RESIDUAL`. Returns null when that does not
 * happen: the caller then uses a dense Cholesky, which is backward stable.
 */
export function blockToeplitzSolve(fac: BlockToeplitzFactor, y: Float64Array): Float64Array | null {
  const yNorm = Math.sqrt(dot(y, y));
  if (yNorm === 0) return new Float64Array(y.length);
  const x = blockToeplitzSolveOnce(fac, y);
  const tx = blockToeplitzApply(fac, x);
  const r = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) r[i] = y[i] - tx[i];
  if (Math.sqrt(dot(r, r)) <= MAX_RELATIVE_RESIDUAL * yNorm) return x;
  let z = blockToeplitzSolveOnce(fac, r);
  const p = Float64Array.from(z);
  let rz = dot(r, z);
  for (let iter = 0; iter < MAX_PCG_ITERATIONS; iter++) {
    const ap = blockToeplitzApply(fac, p);
    const pap = dot(p, ap);
    if (!(pap > 0) || !(rz > 0)) break;
    const alpha = rz / pap;
    for (let i = 0; i < x.length; i++) {
      x[i] += alpha * p[i];
      r[i] -= alpha * ap[i];
    }
    if (Math.sqrt(dot(r, r)) <= MAX_RELATIVE_RESIDUAL * yNorm) {
      // Confirm with the true residual (the recursive one drifts).
      const t = blockToeplitzApply(fac, x);
      let trueR = 0;
      for (let i = 0; i < y.length; i++) trueR += (y[i] - t[i]) ** 2;
      if (Math.sqrt(trueR) <= 10 * MAX_RELATIVE_RESIDUAL * yNorm) return x;
      for (let i = 0; i < y.length; i++) r[i] = y[i] - t[i];
    }
    z = blockToeplitzSolveOnce(fac, r);
    const rzNew = dot(r, z);
    const beta = rzNew / rz;
    rz = rzNew;
    for (let i = 0; i < p.length; i++) p[i] = z[i] + beta * p[i];
  }
  return null;
}
