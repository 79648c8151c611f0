/**
 * Float64 radix-2 FFT for the evaluation code (correlations and convolutions in BSS-Eval).
 * Not used on the audio path; accuracy matters more than speed here, hence float64 throughout and
 * twiddles computed directly with cos/sin (no recurrence that accumulates error).
 */
import { fftInPlace as transform, fftPlan } from '../dsp/fft.js';

/** Smallest power of two >= n (`2**ceil(log2(n))`, as mir_eval sizes its FFTs). */
export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * In-place complex FFT of (re, im), both of length n (a power of two).
 * `inverse` computes the inverse transform including the 1/n scale.
 */
export function fftInPlace(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  if (im.length !== n) throw new RangeError('re and im must have the same length');
  if (n <= 1) return;
  transform(re, im, fftPlan(n), inverse);
  if (inverse) {
    const scale = 1 / n;
    for (let i = 0; i < n; i++) {
      re[i] *= scale;
      im[i] *= scale;
    }
  }
}

/** Spectrum of a real signal zero-padded to `nFft`. */
export interface Spectrum {
  readonly re: Float64Array;
  readonly im: Float64Array;
}

export function realFft(signal: ArrayLike<number>, nFft: number): Spectrum {
  const re = new Float64Array(nFft);
  const im = new Float64Array(nFft);
  const n = Math.min(signal.length, nFft);
  for (let i = 0; i < n; i++) re[i] = signal[i];
  fftInPlace(re, im);
  return { re, im };
}

/**
 * Circular cross-correlation `c[m] = sum_t a[t + m] * b[t]` (indices mod nFft), from spectra:
 * `real(ifft(A * conj(B)))`, as mir_eval's `_project` computes its inner products.
 */
export function crossCorrelation(a: Spectrum, b: Spectrum): Float64Array {
  const n = a.re.length;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    re[k] = a.re[k] * b.re[k] + a.im[k] * b.im[k];
    im[k] = a.im[k] * b.re[k] - a.re[k] * b.im[k];
  }
  fftInPlace(re, im, true);
  return re;
}
