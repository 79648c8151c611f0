import { describe, expect, it } from 'vitest';
import { idealRatioMask } from '../../bench/lib/oracle.js';
import type { AudioData } from '../../src/types.js';

const RATE = 44_100;
const tone = (hz: number, gain: number, n: number): AudioData => {
  const c = Float32Array.from({ length: n }, (_, i) => gain * Math.sin((2 * Math.PI * hz * i) / RATE));
  return { sampleRateHz: RATE, channels: [c, c.map((v) => 0.5 * v)] };
};
const sum = (a: AudioData, b: AudioData): AudioData => ({ sampleRateHz: RATE, channels: a.channels.map((c, k) => c.map((v, i) => v + b.channels[k][i])) });
const rmsError = (a: Float32Array, b: Float32Array, from: number, to: number): number => {
  let e = 0;
  for (let i = from; i < to; i++) e += (a[i] - b[i]) ** 2;
  return Math.sqrt(e / (to - from));
};

describe('idealRatioMask (the benchmark oracle)', () => {
  const n = RATE;
  const low = tone(220, 0.5, n);
  const high = tone(3520, 0.3, n);
  const mix = sum(low, high);
  const [lowEst, highEst] = idealRatioMask([low, high], mix);

  it('recovers sources that do not share time-frequency bins', () => {
    // Away from the reflect-padded edges, each estimate is its source within 1 % of its amplitude.
    for (const [est, ref, amp] of [[lowEst, low, 0.5], [highEst, high, 0.3]] as const) {
      for (const k of [0, 1]) expect(rmsError(est.channels[k], ref.channels[k], 4096, n - 4096)).toBeLessThan(0.01 * amp);
    }
  });

  it('splits the mix: the masks sum to one, so the estimates sum to the mix', () => {
    for (const k of [0, 1]) {
      const together = lowEst.channels[k].map((v, i) => v + highEst.channels[k][i]);
      expect(rmsError(together, mix.channels[k], 0, n)).toBeLessThan(1e-4);
    }
  });
});
