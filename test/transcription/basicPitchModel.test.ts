/**
 * The shipped basic-pitch ONNX (converted by scripts/convert-basic-pitch.py from the npm
 * package's TF.js weights) computes what upstream's own ONNX export computes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { modelPath } from '../../src/models/paths.js';
import { TENSOR_NAMES, WINDOW_SAMPLES, tensorNamesOf, type TensorNames } from '../../src/transcription/basicPitch.js';
import { firstPresentSoundfont } from '../../src/synth/soundfonts.js';
import { renderNotes } from '../../src/synth/render.js';

const REFERENCE = fileURLToPath(new URL('../../../shared/data/models/basic-pitch/nmp.onnx', import.meta.url));
const OURS = modelPath('basic-pitch', 'basic-pitch.onnx');

async function run(path: string, input: Float32Array, batch: number): Promise<{ names: TensorNames; out: ort.InferenceSession.OnnxValueMapType }> {
  const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const names = tensorNamesOf(session, path);
  const out = await session.run({ [names.input]: new ort.Tensor('float32', input, [batch, WINDOW_SAMPLES, 1]) });
  await session.release();
  return { names, out };
}

describe('basic-pitch model files', () => {
  it('matches its manifest (sha256, tensor names, source package)', () => {
    const manifest = JSON.parse(readFileSync(modelPath('basic-pitch', 'manifest.json'), 'utf8'));
    expect(createHash('sha256').update(readFileSync(OURS)).digest('hex')).toBe(manifest.sha256);
    expect(manifest.input.name).toBe(TENSOR_NAMES.converted.input);
    for (const key of ['note', 'onset', 'contour'] as const) expect(manifest.outputs[key].name).toBe(TENSOR_NAMES.converted[key]);
    const pkg = JSON.parse(readFileSync(new URL('../../node_modules/@spotify/basic-pitch/package.json', import.meta.url), 'utf8'));
    expect(manifest.source.version).toBe(pkg.version);
  });
});

describe.skipIf(!existsSync(REFERENCE))('converted basic-pitch ONNX vs upstream nmp.onnx (../shared)', () => {
  it('gives the same note, onset and contour posteriors within 1e-3', async () => {
    // Window 1: rendered piano (a chord and a run); window 2: uniform noise; window 3: silence.
    const font = firstPresentSoundfont(['npm-fluidr3-mono', 'fluidr3-gm']);
    const input = new Float32Array(3 * WINDOW_SAMPLES);
    if (font) {
      const notes = [48, 55, 64, 67, 69, 71, 72].map((p, i) => ({
        onsetSec: i < 3 ? 0.1 : 0.4 + 0.2 * (i - 3),
        offsetSec: 1.8,
        pitchMidi: p,
        velocity: 60 + 8 * i,
        confidence: 1,
      }));
      const audio = await renderNotes(notes, { soundfontPath: font.path, sampleRateHz: 22050, channels: 1 });
      input.set(audio.channels[0].subarray(0, WINDOW_SAMPLES), 0);
    }
    let seed = 12345;
    for (let i = WINDOW_SAMPLES; i < 2 * WINDOW_SAMPLES; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      input[i] = 0.5 * (seed / 2 ** 31 - 0.5);
    }
    const ours = await run(OURS, input, 3);
    const ref = await run(REFERENCE, input, 3);
    expect(ours.names).toEqual(TENSOR_NAMES.converted);
    expect(ref.names).toEqual(TENSOR_NAMES.upstreamOnnx);
    const maxDiff: Record<string, number> = {};
    for (const key of ['note', 'onset', 'contour'] as const) {
      const a = ours.out[ours.names[key]];
      const b = ref.out[ref.names[key]];
      expect(a.dims).toEqual(b.dims);
      expect(a.dims).toEqual([3, 172, key === 'contour' ? 264 : 88]);
      const x = a.data as Float32Array;
      const y = b.data as Float32Array;
      let d = 0;
      let peak = 0;
      for (let i = 0; i < x.length; i++) {
        d = Math.max(d, Math.abs(x[i] - y[i]));
        peak = Math.max(peak, y[i]);
      }
      maxDiff[key] = d;
      expect(peak).toBeGreaterThan(0.3); // the comparison is on real activations, not all-zero output
    }
    console.info('basic-pitch converted vs reference, max |diff|:', maxDiff);
    for (const d of Object.values(maxDiff)) expect(d).toBeLessThan(1e-3);
  });
});
