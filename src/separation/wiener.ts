/**
 * Multichannel (stereo) Wiener filtering by expectation-maximisation, as open-unmix's
 * `openunmix.filtering.wiener` with `softmask=False, residual=False` (port of sigsep's norbert,
 * MIT; Nugraha, Liutkus & Vincent, "Multichannel audio source separation with deep neural
 * networks", IEEE/ACM TASLP 24(9), 2016).
 *
 * Start: each source's complex STFT is its estimated magnitude with the mix's phase. Each EM
 * iteration then fits a local Gaussian model per source (power spectral density v_j(t, f), the
 * mean over channels of |y_j|^2, and a 2x2 spatial covariance R_j(f) pooled over all frames) and
 * re-estimates every source as the Wiener gain v_j R_j (sum_k v_k R_k)^-1 applied to the mix
 * vector. After one or more iterations the sources sum to the mix (up to the regulariser).
 *
 * Spectrograms are frame-major: index `t * bins + f`.
 */

/** A complex spectrogram of one channel, [shape=(frames, bins)] flattened frame-major. */
export interface ComplexSpec {
  re: Float32Array;
  im: Float32Array;
}

export interface WienerOptions {
  /** EM iterations; 0 returns the magnitude-with-mix-phase start (open-unmix default: 1). */
  iterations: number;
  /** open-unmix's eps: 1e-10 (the covariance regulariser is sqrt(eps) on the scaled mix). */
  eps?: number;
}

/**
 * @param mix the stereo mix's STFT: [left, right], each frames x bins
 * @param targetMags estimated magnitudes [source][channel], each frames x bins
 * @returns complex STFTs [source][channel]
 */
export function wienerFilter(
  mix: readonly [ComplexSpec, ComplexSpec],
  targetMags: readonly (readonly Float32Array[])[],
  bins: number,
  options: WienerOptions,
): ComplexSpec[][] {
  const eps = options.eps ?? 1e-10;
  const iterations = options.iterations;
  const [xl, xr] = mix;
  const n = xl.re.length;
  if (xr.re.length !== n || xl.im.length !== n || xr.im.length !== n) throw new RangeError('wienerFilter: mix channels differ in size');
  if (n % bins !== 0) throw new RangeError(`wienerFilter: ${n} values are not a whole number of ${bins}-bin frames`);
  const sources = targetMags.length;
  for (const s of targetMags) {
    if (s.length !== 2 || s[0].length !== n || s[1].length !== n) throw new RangeError('wienerFilter: each source needs two channels of the mix size');
  }
  const frames = n / bins;

  // Start: |target| * e^{i angle(mix)}.
  const y: ComplexSpec[][] = targetMags.map((chs) =>
    [xl, xr].map((x, c) => {
      const mag = chs[c];
      const re = new Float32Array(n);
      const im = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const a = x.re[i];
        const b = x.im[i];
        const m = Math.hypot(a, b);
        if (m > 0) {
          re[i] = (mag[i] * a) / m;
          im[i] = (mag[i] * b) / m;
        } else {
          re[i] = mag[i]; // atan2(0, 0) = 0: the magnitude on the real axis
        }
      }
      return { re, im };
    }),
  );
  if (iterations <= 0) return y;

  // Work on a mix scaled to max |x| <= 10 so that eps means the same for every input level.
  let maxAbs = 0;
  for (const x of [xl, xr]) for (let i = 0; i < n; i++) maxAbs = Math.max(maxAbs, Math.hypot(x.re[i], x.im[i]));
  const scale = Math.max(1, maxAbs / 10);
  const inv = 1 / scale;
  const x0r = new Float64Array(n);
  const x0i = new Float64Array(n);
  const x1r = new Float64Array(n);
  const x1i = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x0r[i] = xl.re[i] * inv;
    x0i[i] = xl.im[i] * inv;
    x1r[i] = xr.re[i] * inv;
    x1i[i] = xr.im[i] * inv;
  }
  for (const chs of y) {
    for (const ch of chs) {
      for (let i = 0; i < n; i++) {
        ch.re[i] *= inv;
        ch.im[i] *= inv;
      }
    }
  }

  const reg = Math.sqrt(eps);
  const v = Array.from({ length: sources }, () => new Float64Array(n));
  // Spatial covariances per source and bin: r00, r11 (real), r01 (complex); r10 = conj(r01).
  const r00 = Array.from({ length: sources }, () => new Float64Array(bins));
  const r11 = Array.from({ length: sources }, () => new Float64Array(bins));
  const r01r = Array.from({ length: sources }, () => new Float64Array(bins));
  const r01i = Array.from({ length: sources }, () => new Float64Array(bins));
  const weight = new Float64Array(bins);

  for (let it = 0; it < iterations; it++) {
    for (let j = 0; j < sources; j++) {
      const [yl, yr] = y[j];
      const vj = v[j];
      const a00 = r00[j];
      const a11 = r11[j];
      const a01r = r01r[j];
      const a01i = r01i[j];
      a00.fill(0);
      a11.fill(0);
      a01r.fill(0);
      a01i.fill(0);
      weight.fill(eps);
      for (let t = 0; t < frames; t++) {
        const base = t * bins;
        for (let f = 0; f < bins; f++) {
          const i = base + f;
          const lr = yl.re[i];
          const li = yl.im[i];
          const rr = yr.re[i];
          const ri = yr.im[i];
          const p0 = lr * lr + li * li;
          const p1 = rr * rr + ri * ri;
          vj[i] = 0.5 * (p0 + p1);
          weight[f] += vj[i];
          a00[f] += p0;
          a11[f] += p1;
          // y0 * conj(y1)
          a01r[f] += lr * rr + li * ri;
          a01i[f] += li * rr - lr * ri;
        }
      }
      for (let f = 0; f < bins; f++) {
        const w = weight[f];
        a00[f] /= w;
        a11[f] /= w;
        a01r[f] /= w;
        a01i[f] /= w;
      }
    }

    for (let t = 0; t < frames; t++) {
      const base = t * bins;
      for (let f = 0; f < bins; f++) {
        const i = base + f;
        // Cxx = reg I + sum_j v_j R_j
        let c00 = reg;
        let c11 = reg;
        let c01r = 0;
        let c01i = 0;
        for (let j = 0; j < sources; j++) {
          const vj = v[j][i];
          c00 += vj * r00[j][f];
          c11 += vj * r11[j][f];
          c01r += vj * r01r[j][f];
          c01i += vj * r01i[j][f];
        }
        // Inverse of a Hermitian 2x2: [[c11, -c01], [-conj c01, c00]] / det, det real.
        const det = c00 * c11 - (c01r * c01r + c01i * c01i);
        const id = 1 / det;
        const i00 = c11 * id;
        const i11 = c00 * id;
        const i01r = -c01r * id;
        const i01i = -c01i * id;
        // inv * x (computed once; the gain v_j R_j inv applied to x is v_j R_j (inv x)).
        const ax = x0r[i];
        const ay = x0i[i];
        const bx = x1r[i];
        const by = x1i[i];
        // row 0: i00 * x0 + i01 * x1 ; row 1: conj(i01) * x0 + i11 * x1
        const u0r = i00 * ax + (i01r * bx - i01i * by);
        const u0i = i00 * ay + (i01r * by + i01i * bx);
        const u1r = (i01r * ax + i01i * ay) + i11 * bx;
        const u1i = (i01r * ay - i01i * ax) + i11 * by;
        for (let j = 0; j < sources; j++) {
          const vj = v[j][i];
          const s00 = r00[j][f];
          const s11 = r11[j][f];
          const s01r = r01r[j][f];
          const s01i = r01i[j][f];
          // y_j = v_j R_j u, R_j = [[s00, s01], [conj s01, s11]]
          const y0r = vj * (s00 * u0r + (s01r * u1r - s01i * u1i));
          const y0i = vj * (s00 * u0i + (s01r * u1i + s01i * u1r));
          const y1r = vj * ((s01r * u0r + s01i * u0i) + s11 * u1r);
          const y1i = vj * ((s01r * u0i - s01i * u0r) + s11 * u1i);
          const [yl, yr] = y[j];
          yl.re[i] = y0r;
          yl.im[i] = y0i;
          yr.re[i] = y1r;
          yr.im[i] = y1i;
        }
      }
    }
  }

  for (const chs of y) {
    for (const ch of chs) {
      for (let i = 0; i < n; i++) {
        ch.re[i] *= scale;
        ch.im[i] *= scale;
      }
    }
  }
  return y;
}
