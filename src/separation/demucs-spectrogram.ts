/**
 * HTDemucs' spectral front and back end (`HTDemucs._spec` / `_ispec` in demucs/htdemucs.py and
 * `spectro` / `ispectro` in demucs/spec.py, Meta, MIT), for one model window of stereo audio.
 * The ONNX export leaves these outside the graph.
 *
 * Forward: reflect-pad by 3/2 hop on the left (and up to a whole number of hops on the right),
 * STFT with n_fft 4096, hop 1024, periodic Hann, `normalized=True` (scale 1/sqrt(n_fft)), keep
 * frequency bins 0..2047 (drop Nyquist) and frames 2..2+ceil(L/hop) of the centred STFT. With
 * n_fft = 4 hops, frame k then starts at sample k*hop - 3/2 hop of the window, so the centre
 * padding of torch.stft is never read and only the first reflect padding matters.
 *
 * Inverse: the model's complex spectrogram is zero-padded back (Nyquist bin, 2 frames each side)
 * and inverted like torch.istft(center=True, length=...): overlap-add of window * irfft(frame) *
 * sqrt(n_fft), divided by the sum of squared windows of *all* frames (the zero ones included,
 * so the first and last ~1.5 hops come out attenuated exactly as in PyTorch; the model was
 * trained that way and its time branch compensates). Then the 3/2-hop left padding is cut off.
 *
 * The two stereo channels share one complex FFT (x0 + i x1) both ways.
 */
import { fftInPlace, fftPlan } from '../dsp/fft.js';

export const HOP_SAMPLES = 1024;
export const N_FFT = 4096;
/** Frequency bins the model sees (n_fft / 2, Nyquist dropped). */
export const FREQ_BINS = N_FFT / 2;
const PAD_LEFT_SAMPLES = (HOP_SAMPLES / 2) * 3;

/** Periodic Hann, as torch.hann_window(n) (periodic=True). */
export function hannWindow(size: number): Float64Array {
  const w = new Float64Array(size);
  for (let i = 0; i < size; i++) w[i] = 0.5 * (1 - Math.cos((2 * Math.PI * i) / size));
  return w;
}

const WINDOW = hannWindow(N_FFT);

/** Number of spectrogram frames for a window of `lengthSamples`: ceil(L / hop). */
export function frameCount(lengthSamples: number): number {
  return Math.ceil(lengthSamples / HOP_SAMPLES);
}

/** Index into the reflect-padded signal (torch `mode='reflect'`: the edge sample is not repeated). */
function reflectIndex(p: number, length: number): number {
  if (p < 0) return -p;
  if (p >= length) return 2 * (length - 1) - p;
  return p;
}

/**
 * Complex-as-channels spectrogram of a stereo window, the model's second input.
 * @returns [shape=(4, FREQ_BINS, frames)] channels (re L, im L, re R, im R), frames fastest.
 */
export function cacSpectrogram(left: Float32Array, right: Float32Array): { data: Float32Array; frames: number } {
  const lengthSamples = left.length;
  if (right.length !== lengthSamples) throw new RangeError('cacSpectrogram: channels differ in length');
  const frames = frameCount(lengthSamples);
  const padRight = PAD_LEFT_SAMPLES + frames * HOP_SAMPLES - lengthSamples;
  if (lengthSamples <= Math.max(PAD_LEFT_SAMPLES, padRight)) throw new RangeError(`cacSpectrogram: window of ${lengthSamples} samples is too short for reflect padding`);
  const plan = fftPlan(N_FFT);
  const re = new Float64Array(N_FFT);
  const im = new Float64Array(N_FFT);
  const data = new Float32Array(4 * FREQ_BINS * frames);
  const plane = FREQ_BINS * frames;
  const norm = 1 / Math.sqrt(N_FFT);
  for (let t = 0; t < frames; t++) {
    const start = t * HOP_SAMPLES - PAD_LEFT_SAMPLES;
    for (let n = 0; n < N_FFT; n++) {
      const i = reflectIndex(start + n, lengthSamples);
      const g = WINDOW[n] * norm;
      re[n] = left[i] * g;
      im[n] = right[i] * g;
    }
    fftInPlace(re, im, plan);
    // Unpack the two real signals' spectra: X0 = (Z[f] + conj Z[N-f]) / 2, X1 = (Z[f] - conj Z[N-f]) / 2i.
    for (let f = 0; f < FREQ_BINS; f++) {
      const g = f === 0 ? 0 : N_FFT - f;
      const a = re[f];
      const b = im[f];
      const c = re[g];
      const d = im[g];
      const at = f * frames + t;
      data[at] = 0.5 * (a + c);
      data[plane + at] = 0.5 * (b - d);
      data[2 * plane + at] = 0.5 * (b + d);
      data[3 * plane + at] = 0.5 * (c - a);
    }
  }
  return { data, frames };
}

const envelopes = new Map<number, Float64Array>();

/** Sum of squared windows at each output sample, counting the two zero frames on each side. */
function istftEnvelope(lengthSamples: number): Float64Array {
  const cached = envelopes.get(lengthSamples);
  if (cached) return cached;
  const frames = frameCount(lengthSamples);
  const env = new Float64Array(lengthSamples);
  // Padded frame f (0..frames+3) covers window-coordinate samples [f*hop - 3584, f*hop + 512).
  const firstOffset = PAD_LEFT_SAMPLES + N_FFT / 2;
  for (let f = 0; f < frames + 4; f++) {
    const start = f * HOP_SAMPLES - firstOffset;
    for (let n = 0; n < N_FFT; n++) {
      const q = start + n;
      if (q >= 0 && q < lengthSamples) env[q] += WINDOW[n] * WINDOW[n];
    }
  }
  if (envelopes.size > 4) envelopes.clear();
  envelopes.set(lengthSamples, env);
  return env;
}

/**
 * Inverse of one source's complex-as-channels spectrogram, written to `outLeft`/`outRight`
 * (length L, overwritten).
 * @param data tensor holding [shape=(4, FREQ_BINS, frames)] (re L, im L, re R, im R) at `offset`.
 */
export function cacInverse(
  data: Float32Array,
  offset: number,
  frames: number,
  outLeft: Float32Array,
  outRight: Float32Array,
): void {
  const lengthSamples = outLeft.length;
  if (frameCount(lengthSamples) !== frames) throw new RangeError(`cacInverse: ${frames} frames do not match ${lengthSamples} samples`);
  const plan = fftPlan(N_FFT);
  const re = new Float64Array(N_FFT);
  const im = new Float64Array(N_FFT);
  const acc0 = new Float64Array(lengthSamples);
  const acc1 = new Float64Array(lengthSamples);
  const plane = FREQ_BINS * frames;
  // irfft is 1/N sum(...), and normalized istft multiplies by sqrt(N).
  const gain = Math.sqrt(N_FFT) / N_FFT;
  for (let t = 0; t < frames; t++) {
    // Z = X0 + i X1 over the full circle, using X[N-f] = conj X[f]; Nyquist is zero, and the
    // imaginary part of DC is dropped as irfft does.
    re.fill(0);
    im.fill(0);
    for (let f = 0; f < FREQ_BINS; f++) {
      const at = offset + f * frames + t;
      const a = data[at];
      const b = f === 0 ? 0 : data[plane + at];
      const c = data[2 * plane + at];
      const d = f === 0 ? 0 : data[3 * plane + at];
      re[f] = a - d;
      im[f] = b + c;
      if (f > 0) {
        re[N_FFT - f] = a + d;
        im[N_FFT - f] = c - b;
      }
    }
    fftInPlace(re, im, plan, true);
    const start = t * HOP_SAMPLES - PAD_LEFT_SAMPLES;
    const from = Math.max(0, -start);
    const to = Math.min(N_FFT, lengthSamples - start);
    for (let n = from; n < to; n++) {
      const g = WINDOW[n] * gain;
      acc0[start + n] += re[n] * g;
      acc1[start + n] += im[n] * g;
    }
  }
  const env = istftEnvelope(lengthSamples);
  for (let q = 0; q < lengthSamples; q++) {
    const e = env[q] > 1e-11 ? env[q] : 1;
    outLeft[q] = acc0[q] / e;
    outRight[q] = acc1[q] / e;
  }
}
