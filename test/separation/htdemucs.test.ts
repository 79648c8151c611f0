import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAudio } from '../../src/audio/decode.js';
import { resampleAudio } from '../../src/audio/resample.js';
import { ModelError } from '../../src/errors.js';
import { HTDemucsSeparator, mixStatistics } from '../../src/separation/htdemucs.js';
import { createSeparator } from '../../src/separation/index.js';
import { STEM_NAMES, type AudioData, type Separator } from '../../src/types.js';

const MUSDB = fileURLToPath(new URL('../../../shared/data/eval/musdb18-sample/', import.meta.url));
const HAVE_MUSDB = existsSync(join(MUSDB, 'mixture.wav'));
const EXCERPT_SEC = 3;

async function excerpt(name: string): Promise<AudioData> {
  const audio = await decodeAudio(new Uint8Array(readFileSync(join(MUSDB, `${name}.wav`))), { fileName: `${name}.wav` });
  const n = Math.round(EXCERPT_SEC * audio.sampleRateHz);
  return { sampleRateHz: audio.sampleRateHz, channels: audio.channels.map((c) => c.slice(0, n)) };
}

function energy(a: AudioData): number {
  let e = 0;
  for (const ch of a.channels) for (const v of ch) e += v * v;
  return e;
}

/** Signal-to-distortion ratio, dB: 10 log10(|ref|^2 / |ref - est|^2) over all channels. */
function sdrDb(ref: readonly Float32Array[], est: readonly Float32Array[]): number {
  let num = 0;
  let den = 0;
  ref.forEach((r, c) => {
    for (let i = 0; i < r.length; i++) {
      num += r[i] * r[i];
      den += (r[i] - est[c][i]) ** 2;
    }
  });
  return 10 * Math.log10(num / den);
}

describe('mixStatistics', () => {
  it('is the mean and unbiased std of the mono mix, as demucs normalises', () => {
    const { mean, std } = mixStatistics(Float32Array.from([1, 3, 0]), Float32Array.from([3, 1, 0]));
    // mono = [2, 2, 0]: mean 4/3, unbiased variance ((2/3)^2 * 2 + (4/3)^2) / 2 = 4/3
    expect(mean).toBeCloseTo(4 / 3, 12);
    expect(std).toBeCloseTo(Math.sqrt(4 / 3), 12);
  });
});

describe('htdemucs separator', () => {
  let sep: Separator;
  beforeAll(async () => {
    sep = await createSeparator('htdemucs', { intraOpNumThreads: 1 });
  });
  afterAll(async () => {
    await sep?.dispose?.();
  });

  it('names its model and its personal/research-only licence', () => {
    expect(sep.info.name).toBe('htdemucs');
    expect(sep.info.version).toMatch(/^demucs@\d/);
    expect(sep.info.license).toMatch(/personal and research use only/);
  });

  it('returns silent stems for digital silence at the input length and rate', async () => {
    const stems = await sep.separate({ sampleRateHz: 16_000, channels: [new Float32Array(4000)] });
    for (const name of STEM_NAMES) {
      expect(stems[name].sampleRateHz).toBe(16_000);
      expect(stems[name].channels).toHaveLength(1);
      expect(stems[name].channels[0]).toEqual(new Float32Array(4000));
    }
  });

  it('returns empty stems for empty audio', async () => {
    const stems = await sep.separate({ sampleRateHz: 48_000, channels: [new Float32Array(0), new Float32Array(0)] });
    for (const name of STEM_NAMES) {
      expect(stems[name].sampleRateHz).toBe(48_000);
      expect(stems[name].channels.map((c) => c.length)).toEqual([0, 0]);
    }
  });

  describe.skipIf(!HAVE_MUSDB)('on real music (../shared/data/eval/musdb18-sample)', () => {
    it('separates 3 s of a real mix into four stems that sum to the mix and match the references', async () => {
      const mix = await excerpt('mixture');
      const progress: number[] = [];
      const stems = await sep.separate(mix, { onProgress: (f) => progress.push(f) });
      const n = mix.channels[0].length;
      expect(Object.keys(stems)).toEqual([...STEM_NAMES]);
      for (const name of STEM_NAMES) {
        expect(stems[name].sampleRateHz).toBe(44_100);
        expect(stems[name].channels).toHaveLength(2);
        for (const ch of stems[name].channels) {
          expect(ch.length).toBe(n);
          expect(ch.every(Number.isFinite)).toBe(true);
        }
      }
      const sum = mix.channels.map((_, c) => Float32Array.from({ length: n }, (_, i) => STEM_NAMES.reduce((acc, s) => acc + stems[s].channels[c][i], 0)));
      expect(sdrDb(mix.channels, sum)).toBeGreaterThan(15);
      // A separator, not a copier: each stem is closer to its own reference than the mix is.
      for (const name of STEM_NAMES) {
        const ref = await excerpt(name);
        const sdr = sdrDb(ref.channels, stems[name].channels);
        expect(sdr, name).toBeGreaterThan(5);
        expect(sdr, name).toBeGreaterThan(sdrDb(ref.channels, mix.channels) + 3);
      }
      expect(progress[0]).toBe(0);
      expect(progress.at(-1)).toBe(1);
    });

    it('puts a drums-only mono 32 kHz signal into the drums stem, at 32 kHz mono and the input length', async () => {
      const drums = await excerpt('drums');
      const mono = Float32Array.from(drums.channels[0], (v, i) => 0.5 * (v + drums.channels[1][i]));
      const input = resampleAudio({ sampleRateHz: 44_100, channels: [mono] }, 32_000);
      const stems = await sep.separate(input);
      const n = input.channels[0].length;
      for (const name of STEM_NAMES) {
        expect(stems[name].sampleRateHz).toBe(32_000);
        expect(stems[name].channels).toHaveLength(1);
        expect(stems[name].channels[0].length).toBe(n);
      }
      const total = STEM_NAMES.reduce((acc, s) => acc + energy(stems[s]), 0);
      expect(energy(stems.drums) / total).toBeGreaterThan(0.8);
    });
  });
});

describe('htdemucs model loading', () => {
  it('says what to do when the model file is missing', async () => {
    const err = await HTDemucsSeparator.create({ modelPath: '/nonexistent/htdemucs.onnx' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(/does not exist.*npm install/);
  });

  it('says what to do when the model file is not a model', async () => {
    const err = await HTDemucsSeparator.create({ modelPath: fileURLToPath(import.meta.url) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(/could not be loaded/);
  });

  const ortDir = dirname(createRequire(import.meta.url).resolve('onnxruntime-node'));
  const cudaInstalled = existsSync(join(ortDir, '..', 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so'));
  it.skipIf(cudaInstalled)('explains how to get CUDA when it is asked for and not installed', async () => {
    const err = await HTDemucsSeparator.create({ executionProvider: 'cuda', allowCpuFallback: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12/);
    const warnings: string[] = [];
    const fallback = await HTDemucsSeparator.create({ executionProvider: 'cuda', intraOpNumThreads: 1, onWarning: (m) => warnings.push(m) });
    expect(fallback.provider).toBe('cpu');
    expect(warnings.join('\n')).toMatch(/on the CPU instead/);
    await fallback.dispose();
  });
});
