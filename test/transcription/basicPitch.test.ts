import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../src/errors.js';
import { notesToArrays, precisionRecallF1Overlap } from '../../src/eval/transcription.js';
import { modelPath } from '../../src/models/paths.js';
import { renderNotes } from '../../src/synth/render.js';
import { firstPresentSoundfont } from '../../src/synth/soundfonts.js';
import {
  BasicPitchTranscriber,
  fillWindow,
  frameCount,
  frameTimeSec,
  KEPT_FRAMES_PER_WINDOW,
  LEAD_PAD_SAMPLES,
  WINDOW_HOP_SAMPLES,
  WINDOW_SAMPLES,
  windowCount,
} from '../../src/transcription/basicPitch.js';
import { createTranscriber } from '../../src/transcription/index.js';
import type { Note, Transcriber } from '../../src/types.js';

const note = (onsetSec: number, durSec: number, pitchMidi: number, velocity: number): Note => ({
  onsetSec,
  offsetSec: onsetSec + durSec,
  pitchMidi,
  velocity,
  confidence: 1,
});

/** 12 s of classical piano texture: a melody over an Alberti bass (C-G-E-G), 63 notes. */
function albertiClip(): Note[] {
  const notes: Note[] = [];
  const eighth = 0.25;
  const bars = [[48, 55, 52, 55], [47, 55, 50, 55], [48, 55, 52, 55], [45, 53, 48, 53], [43, 50, 47, 50], [48, 55, 52, 55]];
  bars.forEach((pattern, bar) => {
    for (let half = 0; half < 2; half++) {
      pattern.forEach((p, i) => notes.push(note(0.2 + bar * 2 + half + i * eighth, 0.9 * eighth, p, 55)));
    }
  });
  const melody: Array<[number, number, number]> = [
    [72, 0, 1], [76, 1, 0.5], [79, 1.5, 0.5], [71, 2, 0.75], [72, 2.75, 0.25], [74, 3, 1], [79, 4, 1], [77, 5, 0.5],
    [76, 5.5, 0.5], [77, 6, 1], [76, 7, 1], [74, 8, 0.5], [72, 8.5, 0.5], [71, 9, 1], [72, 10, 2],
  ];
  for (const [p, t, d] of melody) notes.push(note(0.2 + t, 0.95 * d, p, 85));
  return notes;
}

describe('basic-pitch windowing', () => {
  it('tiles the signal: window w starts 15 frames before its first kept frame', () => {
    expect(KEPT_FRAMES_PER_WINDOW).toBe(142);
    expect(WINDOW_HOP_SAMPLES).toBe(142 * 256);
    const x = Float32Array.from({ length: 100_000 }, (_, i) => i + 1);
    const out = new Float32Array(WINDOW_SAMPLES * 2);
    fillWindow(x, 0, out, 0);
    expect(Array.from(out.subarray(LEAD_PAD_SAMPLES - 1, LEAD_PAD_SAMPLES + 1))).toEqual([0, 1]); // zeros, then sample 0
    fillWindow(x, 2, out, WINDOW_SAMPLES);
    // kept frame 15 of window 2 is global frame 284, centred on sample 284 * 256
    expect(out[WINDOW_SAMPLES + 15 * 256]).toBe(x[284 * 256]);
    expect(out[2 * WINDOW_SAMPLES - 1]).toBe(0); // past the end of the audio
    expect(frameCount(22050)).toBe(87);
    expect(windowCount(142)).toBe(1);
    expect(windowCount(143)).toBe(2);
    expect(frameTimeSec(86.1328125)).toBeCloseTo(1, 9);
  });
});

describe('BasicPitchTranscriber', () => {
  let transcriber: Transcriber;
  beforeAll(async () => {
    transcriber = await createTranscriber('basic-pitch', { intraOpNumThreads: 1 });
  });
  afterAll(async () => {
    await transcriber.dispose?.();
  });

  it('describes its model', () => {
    expect(transcriber.info).toEqual({ name: 'basic-pitch', version: '@spotify/basic-pitch@1.0.1', license: 'Apache-2.0' });
  });

  it('returns no notes for empty and silent audio', async () => {
    expect((await transcriber.transcribe({ sampleRateHz: 44100, channels: [new Float32Array(0)] })).notes).toEqual([]);
    expect((await transcriber.transcribe({ sampleRateHz: 16000, channels: [new Float32Array(48000)] })).notes).toEqual([]);
  });

  const piano = firstPresentSoundfont(['npm-musescore-general-lite']);
  it.skipIf(!piano)('transcribes a rendered piano clip (44.1 kHz stereo) with note F1 >= 0.9', async () => {
    const reference = albertiClip();
    const audio = await renderNotes(reference, { soundfontPath: piano!.path, sampleRateHz: 44100, channels: 2 });
    const progress: number[] = [];
    const { notes } = await transcriber.transcribe(audio, { onProgress: (f) => progress.push(f) });
    const scores = precisionRecallF1Overlap(notesToArrays(reference), notesToArrays(notes), { offsetRatio: null });
    console.info(`basic-pitch on the MuseScore General piano clip: ${notes.length} notes for ${reference.length};`, scores);
    expect(scores.f1).toBeGreaterThanOrEqual(0.9);
    expect(progress.at(-1)).toBe(1);
    for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1]);
    for (const n of notes) {
      expect(n.velocity).toBeGreaterThanOrEqual(1);
      expect(n.velocity).toBeLessThanOrEqual(127);
      expect(n.offsetSec).toBeGreaterThan(n.onsetSec);
    }
  });

  const organFont = firstPresentSoundfont(['npm-fluidr3-mono', 'fluidr3-gm']);
  it.skipIf(!organFont)('does not split a note held across window seams', async () => {
    // An organ (GM 19) holds its level, so the frame posterior stays up from 0.5 s to 4.5 s,
    // across the seams at frames 142 (1.65 s) and 284 (3.30 s).
    const audio = await renderNotes([note(0.5, 4, 67, 100)], {
      soundfontPath: organFont!.path,
      sampleRateHz: 22050,
      channels: 1,
      program: 19,
    });
    const { notes } = await transcriber.transcribe(audio);
    const g4 = notes.filter((n) => n.pitchMidi === 67);
    expect(g4).toHaveLength(1);
    expect(Math.abs(g4[0].onsetSec - 0.5)).toBeLessThan(0.1); // the organ's attack is slow
    expect(g4[0].offsetSec).toBeGreaterThan(4.3);
  });
});

describe('BasicPitchTranscriber model checks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bp-model-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the missing file and how to regenerate it', async () => {
    const missing = join(dir, 'nope.onnx');
    await expect(BasicPitchTranscriber.create({ modelPath: missing })).rejects.toThrow(ModelError);
    await expect(BasicPitchTranscriber.create({ modelPath: missing })).rejects.toThrow(/convert-basic-pitch\.py/);
  });

  it('loads with onnxruntime\'s default thread count', async () => {
    const t = await createTranscriber('basic-pitch');
    expect(t.info.name).toBe('basic-pitch');
    await t.dispose?.();
  });

  it('refuses a model file that does not match its manifest', async () => {
    const path = join(dir, 'basic-pitch.onnx');
    copyFileSync(modelPath('basic-pitch', 'basic-pitch.onnx'), path);
    const manifest = JSON.parse(readFileSync(modelPath('basic-pitch', 'manifest.json'), 'utf8'));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, sha256: '0'.repeat(64) }));
    await expect(BasicPitchTranscriber.create({ modelPath: path })).rejects.toThrow(/does not match its manifest/);
  });
});
