import { describe, expect, it } from 'vitest';
import { EvalInputError } from '../../src/eval/errors.js';
import {
  bssEvalImages,
  bssEvalSource,
  bssEvalSources,
  bssEvalSourcesFramewise,
  bssSdr,
  framewiseMedianSdr,
  nanMedian,
  siSdr,
} from '../../src/eval/separation.js';
import { HAVE_SEP_FIXTURES, expectCloseDb, loadSepCase, multichannel, sepCaseIds } from './sepFixtures.js';

/** Deterministic pseudo-random signal (xorshift), so tests never depend on Math.random. */
function noise(n: number, seed: number): Float64Array {
  let x = seed >>> 0 || 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = ((x >>> 0) / 2 ** 32) * 2 - 1;
  }
  return out;
}

describe.skipIf(!HAVE_SEP_FIXTURES)('bss_eval_sources / bss_eval_images vs mir_eval fixtures', () => {
  for (const id of sepCaseIds()) {
    it(`output${id}.json: Sources and Images`, () => {
      const c = loadSepCase(id);
      const s = bssEvalSources(c.ref, c.est);
      const S = c.expected.Sources;
      expectCloseDb(s.sdr, S['Source to Distortion'], 'SDR');
      expectCloseDb(s.sir, S['Source to Interference'], 'SIR');
      expectCloseDb(s.sar, S['Source to Artifact'], 'SAR');
      expect(s.perm).toEqual(S['Source permutation']);

      const I = c.expected.Images;
      const im = bssEvalImages(multichannel(c.ref, I.nchan as number), multichannel(c.est, I.nchan as number, I.gain as number));
      expectCloseDb(im.sdr, I['Source to Distortion'], 'image SDR');
      expectCloseDb(im.isr, I['Image to Spatial'], 'image ISR');
      expectCloseDb(im.sir, I['Source to Interference'], 'image SIR');
      expectCloseDb(im.sar, I['Source to Artifact'], 'image SAR');
      expect(im.perm).toEqual(I['Source permutation']);
    });
  }
});

describe('Function: bssEvalSources', () => {
  it('scores a perfect estimate +Infinity SIR and very high SDR, and finds the permutation', () => {
    const refs = [noise(3000, 1), noise(3000, 2)];
    const r = bssEvalSources(refs, [refs[1], refs[0]]);
    expect(r.perm).toEqual([1, 0]);
    for (const v of r.sdr) expect(v).toBeGreaterThan(100);
  });

  it('is invariant to the gain of the estimate and sees added noise', () => {
    const ref = [noise(4000, 3)];
    const n = noise(4000, 4);
    const est = [ref[0].map((v, i) => 0.5 * v + 0.1 * n[i])];
    const a = bssEvalSources(ref, est).sdr[0];
    const b = bssEvalSources(ref, [est[0].map((v) => v * 3)]).sdr[0];
    expect(Math.abs(a - b)).toBeLessThan(1e-9);
    // Noise 0.1 vs signal 0.5 of equal-power white signals: about 14 dB.
    expect(a).toBeGreaterThan(12);
    expect(a).toBeLessThan(16);
  });

  it('bssSdr equals the full SDR (it depends on the target reference only)', () => {
    const refs = [noise(3000, 5), noise(3000, 6)];
    const est = [refs[0].map((v, i) => v + 0.3 * refs[1][i]), refs[1].map((v, i) => v + 0.2 * refs[0][i])];
    const full = bssEvalSources(refs, est, { computePermutation: false });
    expect(Math.abs(bssSdr(refs[0], est[0]) - full.sdr[0])).toBeLessThan(1e-8);
    expect(Math.abs(bssSdr(refs[1], est[1]) - full.sdr[1])).toBeLessThan(1e-8);
  });

  it('rejects silent sources and shape mismatches with mir_eval wording', () => {
    const a = noise(100, 7);
    expect(() => bssEvalSources([new Float64Array(100), a], [a, a])).toThrow(/reference sources should be non-silent/);
    expect(() => bssEvalSources([a, a], [new Float64Array(100), a])).toThrow(/estimated sources should be non-silent/);
    expect(() => bssEvalSources([a], [a, a])).toThrow(EvalInputError);
    expect(() => bssEvalSources([a], [a.subarray(0, 50)])).toThrow(/shape of estimated sources and the true sources should match/);
  });

  it('bssEvalSource scores one estimate alone, NaN when it is silent', () => {
    const refs = [noise(2000, 20), noise(2000, 21)];
    const est = [refs[0].map((v, i) => v + 0.3 * refs[1][i]), refs[1]];
    const full = bssEvalSources(refs, est, { computePermutation: false });
    const one = bssEvalSource(refs, est[0], 0);
    expect(Math.abs(one.sdr - full.sdr[0]) + Math.abs(one.sir - full.sir[0]) + Math.abs(one.sar - full.sar[0])).toBeLessThan(1e-8);
    expect(bssEvalSource(refs, new Float64Array(2000), 1).sdr).toBeNaN();
  });

  it('returns empty results for empty input', () => {
    expect(bssEvalSources([], [])).toEqual({ sdr: [], sir: [], sar: [], perm: [] });
  });
});

describe('Function: bssEvalSourcesFramewise', () => {
  it('marks windows where a source is silent as NaN (mir_eval partial silence test)', () => {
    const sound = [noise(20, 8), noise(20, 9)];
    const silence = new Float64Array(20);
    const ref = sound.map((s) => Float64Array.from([...s, ...silence, ...s]));
    const est = sound.map((s, i) => Float64Array.from([...s, ...noise(20, 10 + i), ...s]));
    const r = bssEvalSourcesFramewise(ref, est, { windowSamples: 10, hopSamples: 10, filterLength: 4 });
    for (const row of r.sdr) {
      expect(row.map(Number.isNaN)).toEqual([false, false, true, true, false, false]);
    }
  });
});

describe('Function: framewiseMedianSdr / siSdr / nanMedian', () => {
  it('nanMedian ignores NaN', () => {
    expect(nanMedian([3, NaN, 1, 2])).toBe(2);
    expect(nanMedian([NaN])).toBeNaN();
    expect(nanMedian([1, 2, 3, 10])).toBe(2.5);
  });

  it('framewise median SDR is high for a near-perfect stereo estimate and skips silent windows', () => {
    const sr = 2000;
    const left = noise(sr * 4, 11);
    const right = noise(sr * 4, 12);
    right.fill(0, 0, sr); // first second silent in one channel
    const n = noise(sr * 4, 13);
    const est = [left.map((v, i) => v + 0.01 * n[i]), right.map((v, i) => v + (i < sr ? 0 : 0.01 * n[i]))];
    const r = framewiseMedianSdr([left, right], est, sr, { filterLength: 64 });
    expect(r.framesSdr[1][0]).toBeNaN();
    expect(r.medianSdr).toBeGreaterThan(35);
    expect(r.medianSdr).toBeLessThan(45);
  });

  it('SI-SDR: perfect is +Infinity, scale-invariant, and 0 dB for equal-power orthogonal noise', () => {
    const ref = noise(10000, 14);
    expect(siSdr(ref, ref)).toBe(Infinity);
    const n = noise(10000, 15);
    const est = ref.map((v, i) => v + n[i]);
    expect(Math.abs(siSdr(ref, est) - siSdr(ref, est.map((v) => 5 * v)))).toBeLessThan(1e-9);
    expect(Math.abs(siSdr(ref, est))).toBeLessThan(0.3);
    expect(siSdr(ref, new Float64Array(10000))).toBeNaN();
  });
});
