import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { frameActivations, NOTE_BEAT_NB_FEATURES, NoteBeatModel, noteBeatFeatures, sortNotesForBeats, type NoteBeatProbabilities } from '../../src/postprocess/noteBeatModel.js';
import type { Note } from '../../src/types.js';
import { note } from './helpers.js';

/** Written by training/beats/note_export.py: synthetic notes -> numpy features and onnxruntime (Python) probabilities. */
const fixture = JSON.parse(readFileSync(new URL('./fixtures/note-beat-parity.json', import.meta.url), 'utf8')) as {
  notes: number[][];
  featureRows: number[][];
  beat: number[];
  downbeat: number[];
  tempoArgmax: number[];
};
const fixtureNotes: Note[] = fixture.notes.map(([on, off, pitch, vel]) => ({ onsetSec: on, offsetSec: off, pitchMidi: pitch, velocity: vel, confidence: 1 }));

describe('noteBeatFeatures', () => {
  it('matches training/beats/note_features.py on the parity fixture', () => {
    const x = noteBeatFeatures(sortNotesForBeats(fixtureNotes));
    expect(x).toHaveLength(fixture.featureRows.length * NOTE_BEAT_NB_FEATURES);
    fixture.featureRows.forEach((row, i) => {
      row.forEach((v, k) => expect(x[i * NOTE_BEAT_NB_FEATURES + k]).toBeCloseTo(v, 5));
    });
  });

  it('encodes pitch, onset gaps, chord membership, duration and velocity', () => {
    const sorted = sortNotesForBeats([note(1.0, 64, 0.5, 127), note(0.5, 36, 2, 64), note(1.01, 60, 0.5, 100)]);
    expect(sorted.map((n) => n.pitchMidi)).toEqual([36, 64, 60]);
    const x = noteBeatFeatures(sorted);
    const row = (i: number) => Array.from(x.subarray(i * NOTE_BEAT_NB_FEATURES, (i + 1) * NOTE_BEAT_NB_FEATURES));
    expect(row(0)[36 - 21]).toBe(1);
    expect(row(0).slice(0, 88).reduce((a, b) => a + b, 0)).toBe(1);
    expect(row(0)[88]).toBe(0); // first note: no previous onset
    expect(row(0)[94]).toBeCloseTo(0.5 / 4, 6); // next onset 0.5 s later
    expect(row(1)[88]).toBeCloseTo(0.5 / 4, 6);
    expect(row(1)[89]).toBeCloseTo(Math.log(0.5) / 4, 6);
    expect(row(1)[90]).toBe(0);
    expect(row(2)[90]).toBe(1); // 10 ms after the previous onset: same chord
    expect(row(0)[91]).toBeCloseTo(2 / 4, 6);
    expect(row(1)[93]).toBeCloseTo(1, 6);
    expect(row(2)[94]).toBe(0); // last note
  });
});

describe('frameActivations', () => {
  const probs: NoteBeatProbabilities = {
    notes: [note(0.1, 60), note(0.1, 64), note(0.5, 62)],
    beat: Float32Array.from([0.9, 0.6, 0.2]),
    downbeat: Float32Array.from([0.7, 0.1, 0.001]),
    tempoBpm: Float32Array.from([60, 120]),
    tempo: Float32Array.from([0.2, 0.8, 0.4, 0.6, 1, 0]),
  };

  it('puts the largest note probability on the onset frame and the floor elsewhere', () => {
    const act = frameActivations(probs, 50, 0.05);
    expect(act.beat).toHaveLength(25 + 1 + 50);
    expect(act.beat[5]).toBeCloseTo(0.9, 6);
    expect(act.beat[25]).toBeCloseTo(0.2, 6);
    expect(act.beat[6]).toBeCloseTo(0.05, 6);
    expect(act.downbeat[5]).toBeCloseTo(0.7, 6);
    expect(act.downbeat[25]).toBeCloseTo(0.05, 6); // never below the floor
  });

  it('holds the mean tempo posterior of the last onset frame until the next one', () => {
    const tempo = frameActivations(probs, 50, 0.05).tempo!;
    expect(Array.from(tempo.probs.subarray(0, 2))).toEqual([0.5, 0.5]); // before any note: uniform
    expect(tempo.probs[5 * 2]).toBeCloseTo(0.3, 6);
    expect(tempo.probs[24 * 2 + 1]).toBeCloseTo(0.7, 6);
    expect(tempo.probs[25 * 2]).toBeCloseTo(1, 6);
  });
});

describe('NoteBeatModel (models/beats-notes)', () => {
  let model: NoteBeatModel | undefined;
  afterAll(async () => model?.dispose());

  it('gives the probabilities onnxruntime gave in Python for the same notes', async () => {
    model = await NoteBeatModel.create({ intraOpNumThreads: 1 });
    const probs = await model.noteProbabilities(fixtureNotes);
    expect(probs.beat).toHaveLength(fixture.beat.length);
    let maxDiff = 0;
    fixture.beat.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(probs.beat[i] - v), Math.abs(probs.downbeat[i] - fixture.downbeat[i]))));
    expect(maxDiff).toBeLessThan(1e-4);
    const K = probs.tempoBpm.length;
    let agree = 0;
    fixture.tempoArgmax.forEach((want, i) => {
      const row = probs.tempo.subarray(i * K, (i + 1) * K);
      let arg = 0;
      for (let k = 1; k < K; k++) if (row[k] > row[arg]) arg = k;
      if (arg === want) agree++;
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    });
    expect(agree / fixture.tempoArgmax.length).toBeGreaterThan(0.99);
  });

  it('a damaged model file is a ModelError (checksum), not a crash in the runtime', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'stemscribe-beats-'));
    const manifest = { name: 'beats-notes', version: 'test', license: 'test', file: 'beats.onnx', sha256: '0'.repeat(64), nbFeatures: NOTE_BEAT_NB_FEATURES,
      input: 'features', output: 'activations', tempoOutput: 'tempo', tempoBpm: [60, 120] };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    writeFileSync(join(dir, 'beats.onnx'), new Uint8Array([1, 2, 3]));
    await expect(NoteBeatModel.create({ modelDir: dir })).rejects.toThrow(/checksum/);
  });

  it('activations() renders the probabilities on the 50 fps grid with the val-chosen floor', async () => {
    model ??= await NoteBeatModel.create({ intraOpNumThreads: 1 });
    const act = await model.activations(fixtureNotes);
    const probs = await model.noteProbabilities(fixtureNotes);
    const direct = frameActivations(probs, 50, 0.02);
    expect(act.fps).toBe(50);
    expect(Array.from(act.beat)).toEqual(Array.from(direct.beat));
    expect(Array.from(act.downbeat)).toEqual(Array.from(direct.downbeat));
  });

  it('a missing model folder is a ModelError naming the manifest', async () => {
    await expect(NoteBeatModel.create({ modelDir: '/nonexistent/beats' })).rejects.toThrow(/manifest/);
  });
});
