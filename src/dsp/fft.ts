/**
 * In-place iterative radix-2 complex FFT in float64 with precomputed twiddles and bit-reversal
 * table: the one FFT of the code base (separation STFTs, the piano front end, the evaluation's
 * correlations). Plans are cached per size: the separator runs thousands of 4096-point transforms
 * per minute of audio, so the trigonometry is done once. Twiddles come from cos/sin directly, not a
 * recurrence, so no error accumulates (BSS-Eval needs that accuracy).
 */

export interface FftPlan {
  readonly size: number;
  readonly cos: Float64Array;
  readonly sin: Float64Array;
  readonly bitReversed: Uint32Array;
}

const plans = new Map<number, FftPlan>();

export function fftPlan(size: number): FftPlan {
  const cached = plans.get(size);
  if (cached) return cached;
  if (!Number.isInteger(size) || size < 2 || (size & (size - 1)) !== 0) throw new RangeError(`FFT size must be a power of two, got ${size}`);
  const half = size / 2;
  const cos = new Float64Array(half);
  const sin = new Float64Array(half);
  for (let k = 0; k < half; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / size);
    sin[k] = Math.sin((2 * Math.PI * k) / size);
  }
  const bits = Math.log2(size);
  const bitReversed = new Uint32Array(size);
  for (let i = 0; i < size; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    bitReversed[i] = r;
  }
  const plan = { size, cos, sin, bitReversed };
  plans.set(size, plan);
  return plan;
}

/**
 * Forward DFT `X[k] = sum_n x[n] e^{-2 pi i k n / N}` (no scaling), in place on (re, im).
 * With `inverse`, computes `sum_k X[k] e^{+2 pi i k n / N}` (also unscaled: divide by N yourself).
 */
export function fftInPlace(re: Float64Array, im: Float64Array, plan: FftPlan, inverse = false): void {
  const n = plan.size;
  if (re.length !== n || im.length !== n) throw new RangeError(`FFT buffers must have length ${n}`);
  const rev = plan.bitReversed;
  for (let i = 0; i < n; i++) {
    const j = rev[i];
    if (i < j) {
      let t = re[i];
      re[i] = re[j];
      re[j] = t;
      t = im[i];
      im[i] = im[j];
      im[j] = t;
    }
  }
  const sign = inverse ? 1 : -1;
  for (let len = 2; len <= n; len <<= 1) {
    const halfLen = len >> 1;
    const step = n / len;
    for (let start = 0; start < n; start += len) {
      for (let j = 0; j < halfLen; j++) {
        const wr = plan.cos[j * step];
        const wi = sign * plan.sin[j * step];
        const k = start + j;
        const l = k + halfLen;
        const tr = wr * re[l] - wi * im[l];
        const ti = wr * im[l] + wi * re[l];
        re[l] = re[k] - tr;
        im[l] = im[k] - ti;
        re[k] += tr;
        im[k] += ti;
      }
    }
  }
}
