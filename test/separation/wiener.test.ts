import { describe, expect, it } from 'vitest';
import { wienerFilter, type ComplexSpec } from '../../src/separation/wiener.js';
import { seededNoise } from '../helpers/noise.js';

const spec = (seed: number, n: number, gain = 1): ComplexSpec => ({
  re: seededNoise(seed, n).map((v) => v * gain),
  im: seededNoise(seed + 1000, n).map((v) => v * gain),
});

function addSpecs(a: ComplexSpec, b: ComplexSpec): ComplexSpec {
  return { re: a.re.map((v, i) => v + b.re[i]), im: a.im.map((v, i) => v + b.im[i]) };
}

const mag = (s: ComplexSpec): Float32Array => s.re.map((v, i) => Math.hypot(v, s.im[i]));

type C = [number, number];
const cmul = (a: C, b: C): C => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
const cadd = (a: C, b: C): C => [a[0] + b[0], a[1] + b[1]];
const conj = (a: C): C => [a[0], -a[1]];
type M = [[C, C], [C, C]];
const mmul = (a: M, b: M): M => [0, 1].map((i) => [0, 1].map((j) => cadd(cmul(a[i][0], b[0][j]), cmul(a[i][1], b[1][j])))) as M;
/** Generic complex 2x2 inverse (not the Hermitian shortcut the implementation uses). */
function minv(a: M): M {
  const det = cadd(cmul(a[0][0], a[1][1]), cmul([-1, 0], cmul(a[0][1], a[1][0])));
  const d2 = det[0] * det[0] + det[1] * det[1];
  const id: C = [det[0] / d2, -det[1] / d2];
  return [
    [cmul(a[1][1], id), cmul(cmul([-1, 0], a[0][1]), id)],
    [cmul(cmul([-1, 0], a[1][0]), id), cmul(a[0][0], id)],
  ];
}

describe('wienerFilter', () => {
  const bins = 5;
  const frames = 7;
  const n = bins * frames;
  // Three stereo sources with different levels, and their mix.
  const srcs = [0, 1, 2].map((j) => [spec(10 * j + 1, n, 1 + j), spec(10 * j + 2, n, 0.5 + j)]);
  const mix: [ComplexSpec, ComplexSpec] = [addSpecs(addSpecs(srcs[0][0], srcs[1][0]), srcs[2][0]), addSpecs(addSpecs(srcs[0][1], srcs[1][1]), srcs[2][1])];
  const mags = srcs.map((s) => s.map(mag));

  it('with 0 iterations gives each magnitude with the mix phase', () => {
    const y = wienerFilter(mix, mags, bins, { iterations: 0 });
    for (let j = 0; j < 3; j++) {
      for (let c = 0; c < 2; c++) {
        for (let i = 0; i < n; i++) {
          expect(Math.hypot(y[j][c].re[i], y[j][c].im[i])).toBeCloseTo(mags[j][c][i], 5);
          const phaseMix = Math.atan2(mix[c].im[i], mix[c].re[i]);
          const phaseY = Math.atan2(y[j][c].im[i], y[j][c].re[i]);
          expect(Math.cos(phaseY - phaseMix)).toBeCloseTo(1, 5);
        }
      }
    }
  });

  it('after EM the sources sum to the mix', () => {
    for (const iterations of [1, 3]) {
      const y = wienerFilter(mix, mags, bins, { iterations });
      for (let c = 0; c < 2; c++) {
        for (let i = 0; i < n; i++) {
          const re = y[0][c].re[i] + y[1][c].re[i] + y[2][c].re[i];
          const im = y[0][c].im[i] + y[1][c].im[i] + y[2][c].im[i];
          expect(re).toBeCloseTo(mix[c].re[i], 4);
          expect(im).toBeCloseTo(mix[c].im[i], 4);
        }
      }
    }
  });

  it('one EM iteration equals the textbook formula (v_j, R_j from the start, gain v_j R_j Cxx^-1)', () => {
    const y = wienerFilter(mix, mags, bins, { iterations: 1, eps: 1e-10 });
    // Reference computation in plain complex arithmetic. The mix is small (max |x| < 10), so no scaling.
    const start = wienerFilter(mix, mags, bins, { iterations: 0 });
    const v = start.map(([l, r]) => Array.from({ length: n }, (_, i) => 0.5 * (l.re[i] ** 2 + l.im[i] ** 2 + r.re[i] ** 2 + r.im[i] ** 2)));
    const R = start.map(([l, r], j) =>
      Array.from({ length: bins }, (_, f) => {
        let acc: M = [[[0, 0], [0, 0]], [[0, 0], [0, 0]]];
        let w = 1e-10;
        for (let t = 0; t < frames; t++) {
          const i = t * bins + f;
          const yv: C[] = [[l.re[i], l.im[i]], [r.re[i], r.im[i]]];
          acc = [0, 1].map((a) => [0, 1].map((b) => cadd(acc[a][b], cmul(yv[a], conj(yv[b]))))) as M;
          w += v[j][i];
        }
        return acc.map((row) => row.map((z) => [z[0] / w, z[1] / w])) as M;
      }),
    );
    for (let t = 0; t < frames; t++) {
      for (let f = 0; f < bins; f++) {
        const i = t * bins + f;
        let cxx: M = [[[1e-5, 0], [0, 0]], [[0, 0], [1e-5, 0]]];
        for (let j = 0; j < 3; j++) cxx = [0, 1].map((a) => [0, 1].map((b) => cadd(cxx[a][b], [v[j][i] * R[j][f][a][b][0], v[j][i] * R[j][f][a][b][1]]))) as M;
        const inv = minv(cxx);
        const x: C[] = [[mix[0].re[i], mix[0].im[i]], [mix[1].re[i], mix[1].im[i]]];
        for (let j = 0; j < 3; j++) {
          const g = mmul(R[j][f].map((row) => row.map((z) => [z[0] * v[j][i], z[1] * v[j][i]])) as M, inv);
          for (let c = 0; c < 2; c++) {
            const want = cadd(cmul(g[c][0], x[0]), cmul(g[c][1], x[1]));
            expect(y[j][c].re[i]).toBeCloseTo(want[0], 4);
            expect(y[j][c].im[i]).toBeCloseTo(want[1], 4);
          }
        }
      }
    }
  });

  it('gives the whole mix to the only non-silent source, and nothing to silent ones', () => {
    const zeros = new Float32Array(n);
    const only = [[zeros, zeros], [mag(mix[0]), mag(mix[1])]];
    const y = wienerFilter(mix, only, bins, { iterations: 1 });
    for (let c = 0; c < 2; c++) {
      for (let i = 0; i < n; i++) {
        expect(Math.abs(y[0][c].re[i])).toBe(0);
        expect(y[1][c].re[i]).toBeCloseTo(mix[c].re[i], 4);
        expect(y[1][c].im[i]).toBeCloseTo(mix[c].im[i], 4);
      }
    }
  });

  it('is scale-equivariant (loud mixes are scaled internally, then back)', () => {
    const g = 1000;
    const loud: [ComplexSpec, ComplexSpec] = [0, 1].map((c) => ({ re: mix[c].re.map((v) => v * g), im: mix[c].im.map((v) => v * g) })) as [ComplexSpec, ComplexSpec];
    const a = wienerFilter(mix, mags, bins, { iterations: 1 });
    const b = wienerFilter(loud, mags.map((s) => s.map((m) => m.map((v) => v * g))), bins, { iterations: 1 });
    for (let i = 0; i < n; i++) expect(b[2][0].re[i] / g).toBeCloseTo(a[2][0].re[i], 3);
  });

  it('rejects inconsistent shapes', () => {
    expect(() => wienerFilter(mix, [[new Float32Array(3), new Float32Array(3)]], bins, { iterations: 1 })).toThrow(RangeError);
    expect(() => wienerFilter(mix, mags, 4, { iterations: 1 })).toThrow(/whole number/);
  });
});
