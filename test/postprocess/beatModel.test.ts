import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { BEAT_NB_FEATURES, BeatModel, beatFeatures } from '../../src/postprocess/beatModel.js';
import { fuseBeatActivations, postprocess, postprocessAsync, trackBeatsAndMeter } from '../../src/postprocess/index.js';
import type { NoteBeatModel } from '../../src/postprocess/noteBeatModel.js';
import type { Note } from '../../src/types.js';
import { note } from './helpers.js';

/** Written by training/beats/export.py: synthetic notes -> numpy features and onnxruntime (Python) activations. */
const fixture = JSON.parse(readFileSync(new URL('./fixtures/beat-parity.json', import.meta.url), 'utf8')) as {
  notes: number[][];
  nbFrames: number;
  featureRows: number[][];
  beat: number[];
  downbeat: number[];
  /** Argmax tempo class per frame, present when the model has a tempo head. */
  tempoArgmax?: number[];
};
const fixtureNotes: Note[] = fixture.notes.map(([on, off, pitch, vel]) => ({ onsetSec: on, offsetSec: off, pitchMidi: pitch, velocity: vel, confidence: 1 }));

describe('beatFeatures', () => {
  it('matches training/beats/features.py on the parity fixture', () => {
    const { features, nbFrames } = beatFeatures(fixtureNotes);
    expect(nbFrames).toBe(fixture.nbFrames);
    fixture.featureRows.forEach((row, f) => {
      row.forEach((v, k) => expect(features[f * BEAT_NB_FEATURES + k]).toBeCloseTo(v, 5));
    });
  });

  it('counts simultaneous onsets, sounding notes and pitch classes', () => {
    const { features, nbFrames } = beatFeatures([note(0.1, 60, 0.5, 127), note(0.1, 64, 0.5, 64), note(0.3, 36, 0.1, 100)]);
    expect(nbFrames).toBe(15 + 1 + 50);
    const row = (f: number) => Array.from(features.subarray(f * BEAT_NB_FEATURES, (f + 1) * BEAT_NB_FEATURES));
    expect(row(5)[0]).toBeCloseTo(Math.log1p(2), 6);
    expect(row(5)[1]).toBeCloseTo(1, 6);
    expect(row(5)[14 + 0]).toBeCloseTo(1, 6); // C
    expect(row(5)[14 + 4]).toBeCloseTo(64 / 127, 6); // E
    expect(row(10)[13]).toBeCloseTo(Math.log1p(2), 6); // two notes still sounding at 0.2 s
    expect(row(15)[11]).toBeCloseTo((108 - 36) / 87, 6); // the bass note
    expect(row(6)[0]).toBe(0);
  });
});

describe('BeatModel (models/beats)', () => {
  let model: BeatModel | undefined;
  afterAll(async () => model?.dispose());

  it('gives the activations onnxruntime gave in Python for the same notes', async () => {
    model = await BeatModel.create({ intraOpNumThreads: 1 });
    const act = await model.activations(fixtureNotes);
    expect(act.fps).toBe(50);
    expect(act.beat).toHaveLength(fixture.nbFrames);
    let maxDiff = 0;
    fixture.beat.forEach((v, f) => (maxDiff = Math.max(maxDiff, Math.abs(act.beat[f] - v), Math.abs(act.downbeat[f] - fixture.downbeat[f]))));
    expect(maxDiff).toBeLessThan(1e-4);
  });

  it('gives the tempo posterior when (and only when) the model has a tempo head', async () => {
    model ??= await BeatModel.create({ intraOpNumThreads: 1 });
    const act = await model.activations(fixtureNotes);
    expect(act.tempo === undefined).toBe(fixture.tempoArgmax === undefined);
    const tempo = act.tempo;
    if (!tempo || !fixture.tempoArgmax) return;
    const K = tempo.bpm.length;
    expect(tempo.probs).toHaveLength(fixture.nbFrames * K);
    let agree = 0;
    fixture.tempoArgmax.forEach((want, f) => {
      const row = tempo.probs.subarray(f * K, (f + 1) * K);
      let arg = 0;
      for (let k = 1; k < K; k++) if (row[k] > row[arg]) arg = k;
      if (arg === want) agree++;
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    });
    expect(agree / fixture.nbFrames).toBeGreaterThan(0.99);
  });

  it('postprocessAsync uses the learned tracker and keeps every note where it was', async () => {
    model ??= await BeatModel.create({ intraOpNumThreads: 1 });
    const score = await postprocessAsync({ notes: fixtureNotes }, {}, { beatModel: model });
    expect(score.notes.map((n) => n.onsetSec)).toEqual([...fixtureNotes].map((n) => n.onsetSec).sort((a, b) => a - b));
    expect(score.beatsSec!.length).toBeGreaterThan(5);
    const handmade = postprocess({ notes: fixtureNotes }, {});
    expect(score.beatsSec).not.toEqual(handmade.beatsSec);
  });

  it('postprocessAsync takes downbeats and meter from the note-level model, beats from both networks', async () => {
    model ??= await BeatModel.create({ intraOpNumThreads: 1 });
    const act = await model.activations(fixtureNotes);
    // A note-level model with the beat network's beat activation (so the fused one equals it) and a
    // downbeat activation that peaks on every third tracked beat: bars of 3.
    const fusedBeats = trackBeatsAndMeter(fixtureNotes, 'learned', act, 'dbn', act).beatsSec;
    const downbeat = new Float32Array(act.downbeat.length).fill(0.01);
    fusedBeats.forEach((b, i) => {
      if (i % 3 === 1) downbeat[Math.round(b * act.fps)] = 0.99;
    });
    const meterModel = { activations: async () => ({ ...act, downbeat }) } as unknown as NoteBeatModel;
    const withMeter = await postprocessAsync({ notes: fixtureNotes }, { steadyTempo: false }, { beatModel: model, meterModel });
    const without = await postprocessAsync({ notes: fixtureNotes }, { steadyTempo: false }, { beatModel: model, meterModel: null });
    expect(withMeter.beatsSec).toEqual(fusedBeats);
    expect(without.beatsSec).toEqual(trackBeatsAndMeter(fixtureNotes, 'learned', act).beatsSec);
    expect(withMeter.downbeatsSec).not.toEqual(without.downbeatsSec);
    // Bars of 3 from the first downbeat (on the second beat: a one-beat pickup before it).
    expect(withMeter.downbeatsSec![0]).toBeCloseTo(fusedBeats[1], 6);
    const fromFirstBar = withMeter.timeSignatures.filter((ts) => ts.timeSec >= withMeter.downbeatsSec![0] - 1e-6);
    expect(fromFirstBar.map((ts) => ts.numerator)).toEqual([3]);
    const failing = () => Promise.reject(new Error('no meter model'));
    expect(await postprocessAsync({ notes: fixtureNotes }, { steadyTempo: false }, { beatModel: model, meterModel: failing })).toEqual(without);
  });

  it('fuseBeatActivations weighs the two activations frame by frame over the note model\'s frames', () => {
    const tcn = { fps: 50, beat: Float32Array.from([1, 0, 0.5]), downbeat: Float32Array.from([0, 1, 0]) };
    const notes = { fps: 50, beat: Float32Array.from([0, 1, 0.5, 0.2]), downbeat: Float32Array.from([1, 0, 0, 0]) };
    const fused = fuseBeatActivations(tcn, notes, 0.7);
    expect([...fused.beat].map((v) => +v.toFixed(6))).toEqual([0.7, 0.3, 0.5, 0.06]);
    expect([...fused.downbeat].map((v) => +v.toFixed(6))).toEqual([0.3, 0.7, 0, 0]);
    expect(() => fuseBeatActivations({ ...tcn, fps: 100 }, notes, 0.7)).toThrow(/fps/);
  });

  it('postprocessAsync falls back to the hand-made tracker when the model cannot load', async () => {
    const failing = () => Promise.reject(new Error('no model here'));
    const score = await postprocessAsync({ notes: fixtureNotes }, {}, { beatModel: failing });
    expect(score).toEqual(postprocess({ notes: fixtureNotes }, {}));
  });

  it('a damaged model file is a ModelError (checksum), not a crash in the runtime', async () => {
    const { mkdtempSync, copyFileSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'stemscribe-beats-'));
    copyFileSync(new URL('../../models/beats/manifest.json', import.meta.url), join(dir, 'manifest.json'));
    writeFileSync(join(dir, 'beats.onnx'), new Uint8Array([1, 2, 3]));
    await expect(BeatModel.create({ modelDir: dir })).rejects.toThrow(/checksum/);
  });

  it('a missing model folder is a ModelError naming the manifest', async () => {
    await expect(BeatModel.create({ modelDir: '/nonexistent/beats' })).rejects.toThrow(/manifest/);
  });
});
