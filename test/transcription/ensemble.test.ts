import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../src/errors.js';
import { modelPath } from '../../src/models/paths.js';
import { frameTimeSec } from '../../src/transcription/basicPitch.js';
import {
  blendWithMix,
  fusePosteriors,
  mixHeadOnset,
  ONSET_HEAD_CHANNELS,
  OnsetHead,
  PianoEnsembleTranscriber,
  toPianoFrames,
  type EnsembleConfig,
} from '../../src/transcription/ensemble.js';
import { createTranscriber } from '../../src/transcription/index.js';
import { fusionFor, loadPianoManifest, type PianoPosteriors } from '../../src/transcription/piano.js';
import { loadPianoParityClip } from '../helpers/pianoClip.js';

const FIXTURE = new URL('./fixtures/', import.meta.url);

interface FixtureNote {
  onsetSec: number;
  offsetSec: number;
  pitchMidi: number;
}
const fixture = JSON.parse(readFileSync(new URL('piano-parity.json', FIXTURE), 'utf8')) as {
  sampleRateHz: number;
  ensembleNotes: FixtureNote[];
  soloEnsembleNotes: FixtureNote[];
  referenceNotes: FixtureNote[];
  onsetHeadCase?: { frames: number; probeFrames: number[]; onset: number[][] };
};

/** Onset-only F1, 50 ms, greedy one-to-one matching by pitch. */
function onsetF1(ref: FixtureNote[], est: FixtureNote[]): number {
  const used = new Set<number>();
  let hits = 0;
  for (const r of ref) {
    const j = est.findIndex((e, i) => !used.has(i) && e.pitchMidi === r.pitchMidi && Math.abs(e.onsetSec - r.onsetSec) <= 0.05);
    if (j >= 0) {
      used.add(j);
      hits++;
    }
  }
  return ref.length + est.length === 0 ? 1 : (2 * hits) / (ref.length + est.length);
}

describe('toPianoFrames', () => {
  const frameSec = 0.02;

  it('puts each basic-pitch frame on the nearest piano frame and keeps the maximum', () => {
    const bpFrames = 40;
    const bp = new Float32Array(bpFrames * 2);
    for (let j = 0; j < bpFrames; j++) bp[j * 2] = (j + 1) / 100; // key 0: rising ramp
    bp[7 * 2 + 1] = 0.9; // key 1: one spike at basic-pitch frame 7 (81.3 ms)
    const nFrames = 20;
    const out = toPianoFrames(bp, bpFrames, 2, nFrames, frameSec);
    expect(out).toHaveLength(nFrames * 2);
    // frame 7 is at 81.27 ms, nearest piano frame 4 (80 ms)
    expect(Math.round(frameTimeSec(7) / frameSec)).toBe(4);
    for (let t = 0; t < nFrames; t++) expect(out[t * 2 + 1]).toBe(t === 4 ? Float32Array.from([0.9])[0] : 0);
    // on a rising ramp the maximum of the frames that meet is the last of them
    for (let t = 0; t < nFrames; t++) {
      const js = [...Array(bpFrames).keys()].filter((j) => Math.round(frameTimeSec(j) / frameSec) === t);
      expect(out[t * 2]).toBe(Float32Array.from([(Math.max(...js) + 1) / 100])[0]);
    }
  });

  it('drops basic-pitch frames past the end of the piano grid', () => {
    const out = toPianoFrames(Float32Array.from([1, 1, 1, 1, 1, 1]), 6, 1, 2, frameSec);
    expect(Array.from(out)).toEqual([1, 1]);
  });
});

describe('fusePosteriors', () => {
  const config: EnsembleConfig = { with: 'basic-pitch', onsetWeight: 0.75, frameWeight: 0.25, thresholds: { onset: 0.2, frame: 0.4, offset: 0.7 } };
  const frameSec = 256 / 22050; // a grid equal to basic-pitch's: frame j maps to frame j

  it('averages onsets and frames with the manifest weights and keeps our offset, velocity and pedal', () => {
    const ours: PianoPosteriors = {
      frames: 2,
      keys: 1,
      onset: Float32Array.from([0.4, 0]),
      offset: Float32Array.from([0.1, 0.2]),
      frame: Float32Array.from([0.8, 0]),
      velocity: Float32Array.from([0.5, 0.6]),
      pedal: Float32Array.from([1, 0]),
    };
    const fused = fusePosteriors(ours, { frames: 2, onset: Float32Array.from([0.8, 0.4]), note: Float32Array.from([0.4, 1]) }, config, frameSec);
    expect(fused.onset[0]).toBeCloseTo(0.75 * 0.4 + 0.25 * 0.8, 6);
    expect(fused.onset[1]).toBeCloseTo(0.25 * 0.4, 6);
    expect(fused.frame[0]).toBeCloseTo(0.25 * 0.8 + 0.75 * 0.4, 6);
    expect(fused.frame[1]).toBeCloseTo(0.75, 6);
    expect(fused.offset).toBe(ours.offset);
    expect(fused.velocity).toBe(ours.velocity);
    expect(fused.pedal).toBe(ours.pedal);
  });

  it('picks the solo profile for a solo recording and the separated one otherwise', () => {
    const th = { onset: 0.3, frame: 0.3, offset: 0.7 };
    const solo = { onsetWeight: 0.5, frameWeight: 0.5, thresholds: { ...th, support: 0.2, supportFrames: 6 } };
    const config: EnsembleConfig = { with: 'basic-pitch', onsetWeight: 0.6, frameWeight: 0.5, thresholds: th, solo };
    expect(fusionFor(config, 'solo')).toBe(solo);
    expect(fusionFor(config, 'separated')).toBe(config);
    expect(fusionFor(config)).toBe(config);
    const { solo: _, ...older } = config; // a manifest exported before the profiles
    expect(fusionFor(older, 'solo')).toBe(older);
  });

  it('rejects basic-pitch posteriors of the wrong shape', () => {
    const ours: PianoPosteriors = { frames: 1, keys: 2, onset: new Float32Array(2), offset: new Float32Array(2), frame: new Float32Array(2), velocity: new Float32Array(2) };
    expect(() => fusePosteriors(ours, { frames: 1, onset: new Float32Array(3), note: new Float32Array(2) }, config, frameSec)).toThrow(ModelError);
  });
});

describe('blendWithMix', () => {
  const post = (onset: number[], frame: number[], extra = 0): PianoPosteriors => ({
    frames: onset.length,
    keys: 1,
    onset: Float32Array.from(onset),
    offset: Float32Array.from(onset.map(() => 0.1 + extra)),
    frame: Float32Array.from(frame),
    velocity: Float32Array.from(onset.map(() => 0.5 + extra)),
    pedal: Float32Array.from(onset.map(() => extra)),
  });

  it("averages onset and frame with the mix's weight and keeps the stem's offset, velocity and pedal", () => {
    const stem = post([0.2, 0.8], [0.4, 0.6]);
    const mix = post([0.6, 0], [1, 0], 0.3);
    const blended = blendWithMix(stem, mix, 0.25);
    expect(blended.onset[0]).toBeCloseTo(0.75 * 0.2 + 0.25 * 0.6, 6);
    expect(blended.onset[1]).toBeCloseTo(0.75 * 0.8, 6);
    expect(blended.frame[0]).toBeCloseTo(0.75 * 0.4 + 0.25 * 1, 6);
    expect(blended.offset).toBe(stem.offset);
    expect(blended.velocity).toBe(stem.velocity);
    expect(blended.pedal).toBe(stem.pedal);
    expect(stem.onset[0]).toBeCloseTo(0.2, 6); // inputs untouched
  });

  it("keeps the stem's values past the end of a shorter mix, and refuses a different key count", () => {
    const blended = blendWithMix(post([0.2, 0.8, 0.4], [1, 1, 1]), post([0, 0], [0, 0]), 0.5);
    expect(Array.from(blended.onset).map((v) => +v.toFixed(6))).toEqual([0.1, 0.4, 0.4]);
    const twoKeys: PianoPosteriors = { ...post([0, 0], [0, 0]), frames: 1, keys: 2 };
    expect(() => blendWithMix(post([0, 0], [0, 0]), twoKeys, 0.5)).toThrow(ModelError);
  });
});

interface HeadCase {
  frames: number;
  probeFrames: number[];
  onset: number[][];
}

/** The made-up input of training/export.py onset_head_case: `channels` arrays of [frames, 88]. */
function headCaseInputs(kase: HeadCase, channels: number): Float32Array[] {
  const keys = 88;
  return [...Array(channels).keys()].map((c) => {
    const x = new Float32Array(kase.frames * keys);
    for (let t = 0; t < kase.frames; t++) for (let k = 0; k < keys; k++) x[t * keys + k] = (0.5 + 0.5 * Math.sin(0.37 * t + 0.11 * k * (c + 1) + c)) ** 3;
    return x;
  });
}

/** The head run in chunks of 1000 and 333 frames gives Python's whole-recording values at the probe frames. */
async function expectHeadCase(head: OnsetHead, kase: HeadCase, inputs: Float32Array[]): Promise<void> {
  const keys = 88;
  for (const chunkFrames of [1000, 333]) {
    const onset = await head.run(inputs, kase.frames, keys, chunkFrames);
    kase.probeFrames.forEach((t, i) => {
      for (let k = 0; k < keys; k++) expect(Math.abs(onset[t * keys + k] - kase.onset[i][k])).toBeLessThan(1e-4);
    });
  }
}

describe('OnsetHead', () => {
  const manifest = loadPianoManifest(modelPath('piano'));
  const file = manifest.ensemble?.solo?.onsetHead ?? manifest.ensemble?.onsetHead;
  const mixHeads = Object.entries(manifest.ensemble?.mixHeads ?? {});

  it.skipIf(file === undefined)('gives the onset posterior training/onset_head.py gives, in chunks or not', async () => {
    const kase = fixture.onsetHeadCase;
    expect(kase).toBeDefined();
    if (!kase || file === undefined) return;
    const inputs = headCaseInputs(kase, ONSET_HEAD_CHANNELS);
    const head = await OnsetHead.create(join(modelPath('piano'), file), 1);
    try {
      await expectHeadCase(head, kase, inputs);
      await expect(head.run(inputs.slice(1), kase.frames, 88)).rejects.toThrow(ModelError);
    } finally {
      await head.dispose();
    }
  });

  it.skipIf(mixHeads.length === 0)("gives each mix head's onset posterior as training/onset_head.py does, stem channels first", async () => {
    for (const [, { file: headFile }] of mixHeads) {
      const fixtureFile = new URL(`${headFile.replace(/\.onnx$/, '')}.parity.json`, FIXTURE);
      expect(existsSync(fixtureFile)).toBe(true);
      const kase = JSON.parse(readFileSync(fixtureFile, 'utf8')) as HeadCase;
      const head = await OnsetHead.create(join(modelPath('piano'), headFile), 1);
      try {
        expect(head.signals).toBe(2);
        const inputs = headCaseInputs(kase, 2 * ONSET_HEAD_CHANNELS);
        await expectHeadCase(head, kase, inputs);
        // mixHeadOnset: the stem's five channels, then the mix's, the mix cut or padded to the stem's frames.
        const heard = (xs: Float32Array[]) => ({
          ours: { frames: kase.frames, keys: 88, onset: xs[0], frame: xs[1], offset: xs[2], velocity: xs[0] },
          bpOnset: xs[3],
          bpNote: xs[4],
        });
        const longer = (xs: Float32Array[]) => xs.map((x) => {
          const y = new Float32Array(x.length + 7 * 88);
          y.set(x);
          return y;
        });
        const viaMix = await mixHeadOnset(head, heard(inputs.slice(0, 5)), heard(longer(inputs.slice(5, 10))), kase.frames, 88);
        kase.probeFrames.forEach((t, i) => {
          for (let k = 0; k < 88; k++) expect(Math.abs(viaMix[t * 88 + k] - kase.onset[i][k])).toBeLessThan(1e-4);
        });
        // A head is given the signals it was trained on, no more (a third, piano-stem signal).
        await expect(mixHeadOnset(head, heard(inputs.slice(0, 5)), heard(inputs.slice(5, 10)), kase.frames, 88, heard(inputs.slice(0, 5)))).rejects.toThrow(/reads 2 signals/);
      } finally {
        await head.dispose();
      }
    }
  });

  it('refuses a file that is not an onset head', async () => {
    await expect(OnsetHead.create(join(modelPath('piano'), 'piano.onnx'))).rejects.toThrow(/does not have the tensors/);
    await expect(OnsetHead.create(join(modelPath('piano'), 'missing.onnx'))).rejects.toThrow(/not found/);
  });
});

describe('PianoEnsembleTranscriber', () => {
  let tr: PianoEnsembleTranscriber;
  const clip = loadPianoParityClip();
  beforeAll(async () => {
    tr = await PianoEnsembleTranscriber.create({ intraOpNumThreads: 1 });
  });
  afterAll(async () => {
    await tr?.dispose();
  });

  it('is registered under its name and names both models', async () => {
    const byName = await createTranscriber('piano-ensemble', { intraOpNumThreads: 1 });
    expect(byName.info.name).toBe('piano-ensemble');
    expect(byName.info.version).toMatch(/\+@spotify\/basic-pitch@/);
    await byName.dispose?.();
  });

  it('decodes the notes training/fusion.py decodes on the fixture clip', async () => {
    const { notes } = await tr.transcribe({ sampleRateHz: fixture.sampleRateHz, channels: [clip] });
    expect(fixture.ensembleNotes.length).toBeGreaterThan(0);
    // Python resamples for basic-pitch with scipy, we with our own resampler: posteriors differ in
    // the last digits, so a note at a threshold may come or go; timing must not move.
    expect(onsetF1(fixture.ensembleNotes, notes)).toBeGreaterThan(0.95);
    expect(onsetF1(fixture.referenceNotes, notes)).toBeGreaterThan(0.5);
  });

  it('decodes a solo recording with the solo fusion and settings, as training/fusion.py does', async () => {
    const { notes } = await tr.transcribe({ sampleRateHz: fixture.sampleRateHz, channels: [clip] }, { source: 'solo' });
    expect(fixture.soloEnsembleNotes.length).toBeGreaterThan(0);
    expect(onsetF1(fixture.soloEnsembleNotes, notes)).toBeGreaterThan(0.95);
  });

  it("blends a stem with its mix by the manifest's weight for the separator that cut it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stemscribe-ensemble-'));
    const audio = { sampleRateHz: fixture.sampleRateHz, channels: [clip] };
    const silence = { sampleRateHz: fixture.sampleRateHz, channels: [new Float32Array(clip.length)] };
    let weighted: PianoEnsembleTranscriber | undefined;
    try {
      const src = modelPath('piano');
      for (const f of readdirSync(src)) copyFileSync(join(src, f), join(dir, f));
      const manifest = loadPianoManifest(src);
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, ensemble: { ...manifest.ensemble, mixWeights: { mine: 1, half: 0.5 } } }));
      weighted = await PianoEnsembleTranscriber.create({ pianoModelDir: dir, intraOpNumThreads: 1 });
      expect(weighted.mixWeightFor({ source: 'separated', mix: { audio: silence, separator: 'half' } })).toBe(0.5);
      expect(weighted.mixWeightFor({ source: 'separated', mix: { audio: silence, separator: 'other' } })).toBe(0);
      expect(weighted.mixWeightFor({ source: 'solo', mix: { audio: silence, separator: 'half' } })).toBe(0);
      const alone = (await weighted.transcribe(audio)).notes;
      expect(alone.length).toBeGreaterThan(10);
      // A separator the manifest has no weight for: the stem alone.
      expect((await weighted.transcribe(audio, { mix: { audio: silence, separator: 'other' } })).notes).toEqual(alone);
      // Weight 1: the mix alone (silence here, so no notes).
      expect((await weighted.transcribe(audio, { mix: { audio: silence, separator: 'mine' } })).notes).toEqual([]);
      // The stem fused as a stem, the mix as a solo recording (with the onset head), then blended.
      const blended = blendWithMix(await weighted.fusedPosteriors(audio, 'separated'), await weighted.fusedPosteriors(audio, 'solo'), 0.5);
      const half = (await weighted.transcribe(audio, { mix: { audio, separator: 'half' } })).notes;
      expect(half).toEqual(weighted.decode(blended, { source: 'separated' }).notes);
      expect(half).not.toEqual(alone);
    } finally {
      await weighted?.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const mixHeadFiles = [...new Set(Object.values(loadPianoManifest(modelPath('piano')).ensemble?.mixHeads ?? {}).map((h) => h.file))];
  it.skipIf(mixHeadFiles.length === 0).each(mixHeadFiles)("reads the onsets from the separator's mix head (%s), at the head's own threshold", async (mixHeadFile) => {
    const dir = mkdtempSync(join(tmpdir(), 'stemscribe-ensemble-'));
    const audio = { sampleRateHz: fixture.sampleRateHz, channels: [clip] };
    // A different "mix": the clip at half level with its second half silent.
    const mixAudio = { sampleRateHz: fixture.sampleRateHz, channels: [clip.map((v, i) => (i < clip.length / 2 ? 0.5 * v : 0))] };
    let withHead: PianoEnsembleTranscriber | undefined;
    try {
      const src = modelPath('piano');
      for (const f of readdirSync(src)) copyFileSync(join(src, f), join(dir, f));
      const manifest = loadPianoManifest(src);
      const ensemble = { ...manifest.ensemble, mixWeights: { mine: 0.3 }, mixHeads: { mine: { file: mixHeadFile, onset: 0.35 } } };
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, ensemble }));
      withHead = await PianoEnsembleTranscriber.create({ pianoModelDir: dir, intraOpNumThreads: 1 });
      expect(withHead.mixHeadFor({ source: 'separated', mix: { audio: mixAudio, separator: 'other' } })).toBeUndefined();
      expect(withHead.mixHeadFor({ source: 'solo', mix: { audio: mixAudio, separator: 'mine' } })).toBeUndefined();
      const entry = withHead.mixHeadFor({ source: 'separated', mix: { audio: mixAudio, separator: 'mine' } });
      expect(entry?.onsetThreshold).toBe(0.35);
      if (!entry) return;
      const stem = await withHead.heard(audio);
      const mix = await withHead.heard(mixAudio);
      const blended = blendWithMix(await withHead.fuse(stem, 'separated'), await withHead.fuse(mix, 'solo'), 0.3);
      const onset = await mixHeadOnset(entry.head, stem, mix, blended.frames, blended.keys);
      const expected = withHead.decode({ ...blended, onset }, { source: 'separated' }, 0.35).notes;
      const got = (await withHead.transcribe(audio, { mix: { audio: mixAudio, separator: 'mine' } })).notes;
      expect(got.length).toBeGreaterThan(0);
      expect(got).toEqual(expected);
      // Not the blend's onsets, nor the blend's threshold.
      expect(got).not.toEqual(withHead.decode(blended, { source: 'separated' }).notes);
    } finally {
      await withHead?.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a piano model whose manifest has no ensemble settings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stemscribe-ensemble-'));
    try {
      const src = modelPath('piano');
      const manifest = loadPianoManifest(src);
      const { ensemble: _dropped, ...older } = manifest;
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(older));
      copyFileSync(join(src, manifest.file), join(dir, manifest.file));
      await expect(PianoEnsembleTranscriber.create({ pianoModelDir: dir })).rejects.toThrow(/no ensemble settings/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
