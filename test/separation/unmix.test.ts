import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSeparator, SEPARATOR_NAMES } from '../../src/separation/index.js';
import { istftStereo, readUnmixManifest, redistributeResidual, stftFrameCount, stftStereo, UnmixSeparator } from '../../src/separation/unmix.js';
import { ModelError } from '../../src/errors.js';
import { modelPath } from '../../src/models/paths.js';
import type { AudioData } from '../../src/types.js';
import { presentStems } from '../../src/separation/stems.js';
import type { Stems } from '../../src/types.js';
import { seededNoise } from '../helpers/noise.js';

describe('stftStereo / istftStereo (torch.stft / torch.istft conventions)', () => {
  it('equals a direct DFT of reflect-padded, Hann-windowed frames', () => {
    const nFft = 16;
    const hop = 4;
    const x0 = seededNoise(1, 37);
    const x1 = seededNoise(2, 37);
    const [l, r] = stftStereo(x0, x1, nFft, hop);
    const bins = nFft / 2 + 1;
    const frames = stftFrameCount(37, hop);
    expect(frames).toBe(10);
    expect(l.re.length).toBe(frames * bins);
    const pad = (x: Float32Array, p: number): number => {
      const q = p < 0 ? -p : p >= x.length ? 2 * (x.length - 1) - p : p;
      return x[q];
    };
    for (const [x, s] of [[x0, l], [x1, r]] as const) {
      for (let t = 0; t < frames; t++) {
        for (let f = 0; f < bins; f++) {
          let re = 0;
          let im = 0;
          for (let k = 0; k < nFft; k++) {
            const w = 0.5 * (1 - Math.cos((2 * Math.PI * k) / nFft));
            const v = pad(x, t * hop - nFft / 2 + k) * w;
            re += v * Math.cos((2 * Math.PI * f * k) / nFft);
            im -= v * Math.sin((2 * Math.PI * f * k) / nFft);
          }
          expect(s.re[t * bins + f]).toBeCloseTo(re, 5);
          expect(s.im[t * bins + f]).toBeCloseTo(im, 5);
        }
      }
    }
  });

  it('round-trips: istft(stft(x)) = x at the original length', () => {
    for (const length of [300, 301, 333]) {
      const x0 = seededNoise(3, length);
      const x1 = seededNoise(4, length);
      const [l, r] = stftStereo(x0, x1, 64, 16);
      const [y0, y1] = istftStereo(l, r, 64, 16, length);
      for (let i = 0; i < length; i++) {
        expect(y0[i]).toBeCloseTo(x0[i], 5);
        expect(y1[i]).toBeCloseTo(x1[i], 5);
      }
    }
  });

  it('rejects inputs too short for reflect padding', () => {
    expect(() => stftStereo(new Float32Array(8), new Float32Array(8), 16, 4)).toThrow(RangeError);
  });
});

interface Parity {
  modelSha256: string;
  sampleRateHz: number;
  samples: number;
  frames: number;
  stride: number;
  maxAbs: number;
  values: number[];
}

/** The same signal as training/separation/export.py `parity_input`. */
function parityInput(sampleRateHz: number, n: number): [Float32Array, Float32Array] {
  const l = new Float32Array(n);
  const r = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / sampleRateHz;
    l[i] = 0.3 * Math.sin(2 * Math.PI * 220 * t) + 0.1 * Math.sin(2 * Math.PI * 3000 * t + 1);
    r[i] = 0.25 * Math.sin(2 * Math.PI * 330 * t) + 0.05 * (((i * 7919) % 1000) / 1000 - 0.5);
  }
  return [l, r];
}

function rmsDb(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return 10 * Math.log10(s / x.length + 1e-30);
}

/** Energy of (sum of stems - mix) relative to the mix, dB. */
function sumErrorDb(mix: AudioData, stems: Stems): number {
  const all = presentStems(stems).map(([, a]) => a);
  let err = 0;
  let ref = 0;
  mix.channels.forEach((ch, c) => {
    for (let i = 0; i < ch.length; i++) {
      let s = 0;
      for (const a of all) s += a.channels[c][i];
      err += (s - ch[i]) ** 2;
      ref += ch[i] ** 2;
    }
  });
  return 10 * Math.log10(err / ref);
}

/** A small "song": bass-like, mid and high tones with envelopes, plus noise bursts. */
function toyMix(sampleRateHz: number, seconds: number, channels: 1 | 2): AudioData {
  const n = Math.round(seconds * sampleRateHz);
  const hiss = seededNoise(9, n);
  return {
    sampleRateHz,
    channels: Array.from({ length: channels }, (_, c) => {
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const t = i / sampleRateHz;
        const beat = t % 0.5;
        x[i] =
          0.2 * Math.sin(2 * Math.PI * 55 * t) +
          0.1 * Math.sin(2 * Math.PI * (440 + 60 * c) * t) * Math.exp(-3 * (t % 1)) +
          0.05 * Math.sin(2 * Math.PI * 1760 * t) +
          (beat < 0.05 ? 0.3 * hiss[i] * (1 - beat / 0.05) : 0);
      }
      return x;
    }),
  };
}

describe('unmix separator', () => {
  let sep: UnmixSeparator;
  beforeAll(async () => {
    sep = await UnmixSeparator.create({ intraOpNumThreads: 1 });
  });
  afterAll(async () => {
    await sep?.dispose();
  });

  it("is listed among the separators and created by createSeparator('unmix')", async () => {
    expect(SEPARATOR_NAMES).toContain('unmix');
    const s = await createSeparator('unmix', { intraOpNumThreads: 1 });
    expect(s.info.name).toBe('unmix');
    expect(s.info.license).toMatch(/stemscribe/);
    await s.dispose?.();
  });

  it('reproduces the PyTorch target magnitudes of the exported model (TS STFT + onnxruntime, within 1e-4)', async () => {
    const parity = JSON.parse(readFileSync(new URL('./unmix-parity.json', import.meta.url), 'utf8')) as Parity;
    const manifest = readUnmixManifest(modelPath('unmix'));
    expect(parity.modelSha256, 'fixture was made for another model file: re-run training/separation/export.py').toBe((manifest as unknown as { sha256: string }).sha256);
    const [l, r] = parityInput(parity.sampleRateHz, parity.samples);
    const [sl, sr] = stftStereo(l, r, manifest.nFft, manifest.hopSamples);
    const bins = manifest.bins;
    const frames = sl.re.length / bins;
    expect(frames).toBe(parity.frames);
    const mixMag = new Float32Array(frames * 2 * bins);
    for (let t = 0; t < frames; t++) {
      for (const [c, s] of [sl, sr].entries()) {
        for (let f = 0; f < bins; f++) mixMag[(t * 2 + c) * bins + f] = Math.hypot(s.re[t * bins + f], s.im[t * bins + f]);
      }
    }
    const out = await sep.targetMagnitudes(mixMag, frames);
    let maxDiff = 0;
    parity.values.forEach((want, k) => {
      maxDiff = Math.max(maxDiff, Math.abs(out[k * parity.stride] - want));
    });
    expect(parity.values.length).toBeGreaterThan(100);
    expect(maxDiff).toBeLessThan(1e-4 * parity.maxAbs);
  });

  it('returns four stereo stems at the input rate and length that sum to the mix (model rate, Wiener only)', async () => {
    const raw = await UnmixSeparator.create({ intraOpNumThreads: 1, redistributeResidual: false });
    const mix = toyMix(sep.manifest.sampleRateHz, 3.3, 2);
    const stems = await raw.separate(mix);
    await raw.dispose();
    // The manifest's targets, in ALL_STEM_NAMES order (0.2 adds `piano`).
    expect(presentStems(stems).map(([k]) => k).sort()).toEqual([...sep.manifest.targets].sort());
    for (const [, a] of presentStems(stems)) {
      expect(a.sampleRateHz).toBe(mix.sampleRateHz);
      expect(a.channels).toHaveLength(2);
      for (const ch of a.channels) expect(ch.length).toBe(mix.channels[0].length);
    }
    // Wiener's regulariser drops the quietest time-frequency points: close, not exact.
    expect(sumErrorDb(mix, stems)).toBeLessThan(-30);
    // Not all in one stem: the network does split this mix.
    const levels = presentStems(stems).map(([, a]) => rmsDb(a.channels[0]));
    expect(levels.filter((db) => db > rmsDb(mix.channels[0]) - 30).length).toBeGreaterThan(1);
  });

  it('handles 44.1 kHz mono input in several windows (bounded-memory path) and keeps the sum', async () => {
    const long = await UnmixSeparator.create({ intraOpNumThreads: 1, segmentSec: 1.5 });
    try {
      const mix = toyMix(44100, 4.2, 1);
      const progress: number[] = [];
      const stems = await long.separate(mix, { onProgress: (f) => progress.push(f) });
      for (const [, a] of presentStems(stems)) {
        expect(a.sampleRateHz).toBe(44100);
        expect(a.channels).toHaveLength(1);
        expect(a.channels[0].length).toBe(mix.channels[0].length);
      }
      // The noise bursts reach 22 kHz, above the model's 11 kHz: the residual goes back to the stems.
      expect(sumErrorDb(mix, stems)).toBeLessThan(-80);
      expect(progress[0]).toBe(0);
      expect(progress.at(-1)).toBe(1);
      expect(progress.length).toBeGreaterThan(4);
    } finally {
      await long.dispose();
    }
  });

  it('gives silent stems for silence and copes with inputs shorter than one STFT frame', async () => {
    const silence: AudioData = { sampleRateHz: 22050, channels: [new Float32Array(5000), new Float32Array(5000)] };
    const s = await sep.separate(silence);
    for (const [, a] of presentStems(s)) expect(a.channels[0].every((v) => v === 0)).toBe(true);
    const tiny = toyMix(22050, 0.03, 2);
    const t = await sep.separate(tiny);
    for (const [, a] of presentStems(t)) expect(a.channels[0].length).toBe(tiny.channels[0].length);
    expect(sumErrorDb(tiny, t)).toBeLessThan(-80);
  });

  it('redistributeResidual: stems sum to the mix, the brightest stem takes most of the residual', () => {
    const n = 4096;
    const mix = [seededNoise(5, n)];
    const bright = seededNoise(6, n).map((v) => 0.1 * v); // white: large first differences
    const dull = new Float32Array(n).map((_, i) => 0.5 * Math.sin((2 * Math.PI * i) / 400));
    const stems = [[bright], [dull], [new Float32Array(n)], [new Float32Array(n)]];
    const before = stems.map((s) => s[0].slice());
    redistributeResidual(mix, stems, 3);
    for (let i = 0; i < n; i++) expect(stems[0][0][i] + stems[1][0][i] + stems[2][0][i] + stems[3][0][i]).toBeCloseTo(mix[0][i], 5);
    const added = (j: number): number => stems[j][0].reduce((a, v, i) => a + (v - before[j][i]) ** 2, 0);
    expect(added(0)).toBeGreaterThan(100 * added(1));
    expect(added(2)).toBe(0);
    // All stems silent: the fallback stem gets everything.
    const silentStems = [0, 1, 2, 3].map(() => [new Float32Array(n)]);
    redistributeResidual(mix, silentStems, 3);
    expect(Array.from(silentStems[3][0])).toEqual(Array.from(mix[0]));
  });

  it('reports a missing model folder as a ModelError', async () => {
    await expect(UnmixSeparator.create({ modelDir: '/nonexistent/unmix' })).rejects.toBeInstanceOf(ModelError);
  });
});
