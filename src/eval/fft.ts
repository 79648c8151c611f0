/**
 * Float64 radix-2 FFT for the evaluation code (correlations and convolutions in BSS-Eval).
 * Not used on the audio path; accuracy matters more than speed here, hence float64 throughout and
 * twiddles computed directly with cos/sin (no recurrence that accumulates error).
 */

interface Plan {
  readonly cos: Float64Array;
  readonly sin: Float64Array;
  readonly bitrev: Uint32Array;
}

const plans = new Map<number, Plan>();

function plan(n: number): Plan {
  const cached = plans.get(n);
  if (cached) return cached;
  if (n < 1 || (n & (n - 1)) !== 0) throw new RangeError(`FFT size must be a power of two, got ${n}`);
  const half = n >> 1;
  const cos = new Float64Array(half);
  const sin = new Float64Array(half);
  for (let k = 0; k < half; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / n);
    sin[k] = Math.sin((2 * Math.PI * k) / n);
  }
  const bits = Math.round(Math.log2(n));
  const bitrev = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    bitrev[i] = r;
  }
  const p = { cos, sin, bitrev };
  plans.set(n, p);
  return p;
}

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
  const { cos, sin, bitrev } = plan(n);
  for (let i = 0; i < n; i++) {
    const j = bitrev[i];
    if (j > i) {
      let t = re[i];
      re[i] = re[j];
      re[j] = t;
      t = im[i];
      im[i] = im[j];
      im[j] = t;
    }
  }
  const sign = inverse ? 1 : -1;
  for (let size = 2; size <= n; size *= 2) {
    const halfSize = size >> 1;
    const step = n / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < halfSize; k++) {
        const wr = cos[k * step];
        const wi = sign * sin[k * step];
        const a = start + k;
        const b = a + halfSize;
        const xr = re[b] * wr - im[b] * wi;
        const xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
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
