import { describe, expect, it } from 'vitest';
import { downmixToMono, toStereo } from '../../src/audio/channels.js';
import { isSilent, peakDbfs, rmsDbfs } from '../../src/audio/level.js';
import { sine } from './fixtures.js';

const A = (...v: number[]): Float32Array => Float32Array.from(v);

describe('downmixToMono', () => {
  it('averages the channels', () => {
    const out = downmixToMono({ sampleRateHz: 8000, channels: [A(1, 0, 0.5), A(0, 1, -0.5), A(0.5, 0.5, 0)] });
    expect(out.sampleRateHz).toBe(8000);
    expect(out.channels).toHaveLength(1);
    expect(Array.from(out.channels[0])).toEqual([0.5, 0.5, 0].map((v) => Math.fround(v)));
    expect(Array.from(downmixToMono({ sampleRateHz: 8000, channels: [A(1, 0.25), A(0, -0.25)] }).channels[0])).toEqual([0.5, 0]);
  });
  it('returns mono input as it is', () => {
    const audio = { sampleRateHz: 8000, channels: [A(1, 2)] };
    expect(downmixToMono(audio)).toBe(audio);
  });
});

describe('toStereo', () => {
  it('duplicates mono into two independent channels', () => {
    const out = toStereo({ sampleRateHz: 8000, channels: [A(0.1, 0.2)] });
    expect(out.channels).toHaveLength(2);
    expect(out.channels[0]).toEqual(A(0.1, 0.2));
    expect(out.channels[1]).toEqual(A(0.1, 0.2));
    expect(out.channels[0]).not.toBe(out.channels[1]);
  });
  it('returns stereo as it is', () => {
    const audio = { sampleRateHz: 8000, channels: [A(1), A(2)] };
    expect(toStereo(audio)).toBe(audio);
  });
  it('downmixes 5.1 (FL FR FC LFE BL BR): centre to both sides, surrounds to their side, LFE dropped, no clipping', () => {
    const one = A(1);
    const zero = A(0);
    const only = (k: number) => toStereo({ sampleRateHz: 8000, channels: [0, 1, 2, 3, 4, 5].map((c) => (c === k ? one : zero)) });
    const norm = 1 / (1 + 2 * Math.SQRT1_2);
    expect(only(0).channels[0][0]).toBeCloseTo(norm, 6); // FL -> left only
    expect(only(0).channels[1][0]).toBe(0);
    expect(only(1).channels[1][0]).toBeCloseTo(norm, 6); // FR -> right only
    expect(only(2).channels[0][0]).toBeCloseTo(Math.SQRT1_2 * norm, 6); // FC -> both
    expect(only(2).channels[1][0]).toBeCloseTo(Math.SQRT1_2 * norm, 6);
    expect(only(3).channels[0][0]).toBe(0); // LFE dropped
    expect(only(3).channels[1][0]).toBe(0);
    expect(only(5).channels[0][0]).toBe(0); // BR -> right only
    expect(only(5).channels[1][0]).toBeCloseTo(Math.SQRT1_2 * norm, 6);
    const full = toStereo({ sampleRateHz: 8000, channels: [one, one, one, one, one, one] });
    expect(full.channels[0][0]).toBeCloseTo(1, 6);
    expect(full.channels[1][0]).toBeCloseTo(1, 6);
  });
});

describe('levels', () => {
  const fullSine = { sampleRateHz: 48000, channels: [sine(48000, 1000, 48000, 1)] };
  it('peak and RMS of a full-scale sine', () => {
    expect(peakDbfs(fullSine)).toBeCloseTo(0, 3);
    expect(rmsDbfs(fullSine)).toBeCloseTo(-3.0103, 3);
  });
  it('counts every channel', () => {
    const audio = { sampleRateHz: 8000, channels: [A(0, 0), A(0, -0.5)] };
    expect(peakDbfs(audio)).toBeCloseTo(-6.0206, 3);
    expect(rmsDbfs(audio)).toBeCloseTo(20 * Math.log10(Math.sqrt(0.25 / 4)), 6);
  });
  it('silence and near-silence', () => {
    const zeros = { sampleRateHz: 8000, channels: [new Float32Array(100)] };
    expect(peakDbfs(zeros)).toBe(-Infinity);
    expect(rmsDbfs(zeros)).toBe(-Infinity);
    expect(isSilent(zeros)).toBe(true);
    expect(isSilent({ sampleRateHz: 8000, channels: [new Float32Array(0)] })).toBe(true);
    const dither = { sampleRateHz: 8000, channels: [A(0, 1 / 32768, -1 / 32768)] };
    expect(isSilent(dither)).toBe(true);
    const quiet = { sampleRateHz: 8000, channels: [A(0, 0.01)] }; // -40 dBFS: quiet, not silent
    expect(isSilent(quiet)).toBe(false);
    expect(isSilent(quiet, -30)).toBe(true);
  });
});
