/** Shared helpers of the audio tests: the committed fixtures and the signal they encode. */
import { readFileSync } from 'node:fs';

const DIR = new URL('../fixtures/audio/', import.meta.url);

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(name, DIR)));
}

/** The integer samples of make-fixtures.sh's source: 0.2 s at 22050 Hz, 440 Hz left, 1 kHz right. */
export const SOURCE_RATE_HZ = 22050;
export const SOURCE_FRAMES = 4410;
export function sourceInt16(channel: 0 | 1): Int16Array {
  const [amp, freq] = channel === 0 ? [16384, 440] : [8192, 1000];
  const out = new Int16Array(SOURCE_FRAMES);
  for (let i = 0; i < SOURCE_FRAMES; i++) out[i] = Math.floor(amp * Math.sin((2 * Math.PI * freq * i) / SOURCE_RATE_HZ) + 0.5);
  return out;
}
export const sourceFloat = (channel: 0 | 1): Float32Array => Float32Array.from(sourceInt16(channel), (v) => v / 32768);

/** Signal-to-noise ratio of `y` against `ref` over [from, to), dB. */
export function snrDb(y: ArrayLike<number>, ref: ArrayLike<number>, from = 0, to = Math.min(y.length, ref.length)): number {
  let s = 0;
  let e = 0;
  for (let i = from; i < to; i++) {
    s += ref[i] * ref[i];
    e += (y[i] - ref[i]) ** 2;
  }
  return 10 * Math.log10(s / e);
}

/** Power of `x` at `freqHz` (Goertzel), normalised by length. */
export function tonePower(x: Float32Array, freqHz: number, rateHz: number): number {
  const w = (2 * Math.PI * freqHz) / rateHz;
  const c = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < x.length; i++) {
    const s0 = x[i] + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - c * s1 * s2) / (x.length * x.length);
}

/** Which of `candidatesHz` is strongest in `x`. */
export function dominantTone(x: Float32Array, rateHz: number, candidatesHz: readonly number[]): number {
  let best = candidatesHz[0];
  let bestPower = -1;
  for (const f of candidatesHz) {
    const p = tonePower(x, f, rateHz);
    if (p > bestPower) {
      bestPower = p;
      best = f;
    }
  }
  return best;
}

export function sine(numSamples: number, freqHz: number, rateHz: number, amplitude = 0.5): Float32Array {
  const x = new Float32Array(numSamples);
  for (let i = 0; i < numSamples; i++) x[i] = amplitude * Math.sin((2 * Math.PI * freqHz * i) / rateHz);
  return x;
}
