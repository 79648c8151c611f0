import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHORD_WINDOW_SEC, holdUnderPedal, nextLaterOnset } from '../../src/transcription/durations.js';
import { decodeTranscription, type PianoPosteriors } from '../../src/transcription/piano.js';
import type { Note, PedalSpan } from '../../src/types.js';

const note = (onsetSec: number, offsetSec: number, pitchMidi = 60): Note => ({ onsetSec, offsetSec, pitchMidi, velocity: 64, confidence: 1 });
const down = (onsetSec: number, offsetSec: number): PedalSpan => ({ onsetSec, offsetSec });

interface HoldCase {
  onsetSec: number[];
  offsetSec: number[];
  pitchMidi: number[];
  pedal: PedalSpan[];
  maxGapSec: number;
  heldOffsetSec: number[];
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/piano-parity.json', import.meta.url), 'utf8')) as { pedalHoldCase: HoldCase };

describe('nextLaterOnset', () => {
  it('skips the notes of its own chord', () => {
    const notes = [note(1.0, 1.2, 60), note(1.02, 1.2, 64), note(1.5, 2, 67)];
    expect(nextLaterOnset(notes)).toEqual([1.5, 1.5, Infinity]);
    expect(nextLaterOnset([note(1, 2), note(1 + CHORD_WINDOW_SEC, 2, 62)])).toEqual([1 + CHORD_WINDOW_SEC, Infinity]);
  });
});

describe('holdUnderPedal', () => {
  it('holds a note released under the pedal until the next onset of any pitch', () => {
    const out = holdUnderPedal([note(0, 0.3, 48), note(0.01, 0.2, 55), note(0.8, 1.0, 60)], [down(0, 2)], 1);
    expect(out.map((n) => n.offsetSec)).toEqual([0.8, 0.8, 1.0]);
  });

  it('leaves notes released with the pedal up, and never holds past the pedal or the gap limit', () => {
    const notes = [note(0, 0.3, 48), note(2, 2.3, 50), note(2.5, 2.6, 52), note(4, 4.2, 53), note(5.5, 6, 55)];
    const out = holdUnderPedal(notes, [down(2.1, 2.4), down(3.9, 4.5)], 1);
    // 1st: pedal up at its end; 2nd: held only to the pedal's release (2.4), not to 2.5; 4th: next onset 1.3 s after its end.
    expect(out.map((n) => n.offsetSec)).toEqual([0.3, 2.4, 2.6, 4.2, 6]);
  });

  it('never holds a note past the next strike of its key, nor shortens one', () => {
    const out = holdUnderPedal([note(0, 0.2, 60), note(0.5, 0.7, 60), note(0.9, 1.0, 62), note(1.0, 1.6, 64), note(1.2, 1.3, 65)], [down(0, 3)], 1);
    // The 3rd already reaches the next onset (1.0); the 4th outlasts the next one (1.2): both stay.
    expect(out.map((n) => n.offsetSec)).toEqual([0.5, 0.9, 1.0, 1.6, 1.3]);
  });

  it('is off without pedal spans or with a zero gap, and copies the notes', () => {
    const notes = [note(0, 0.2), note(0.5, 0.6, 62)];
    expect(holdUnderPedal(notes, [], 1)).toEqual(notes);
    expect(holdUnderPedal(notes, [down(0, 1)], 0)).toEqual(notes);
    expect(holdUnderPedal(notes, [], 1)[0]).not.toBe(notes[0]);
  });

  it('holds what training/decode.py holds on the random notes of the fixture', () => {
    const c = fixture.pedalHoldCase;
    const notes = c.onsetSec.map((t, i) => note(t, c.offsetSec[i], c.pitchMidi[i]));
    const held = holdUnderPedal(notes, c.pedal, c.maxGapSec).map((n) => n.offsetSec);
    expect(held).toEqual(c.heldOffsetSec);
    expect(held.filter((t, i) => t > c.offsetSec[i]).length).toBeGreaterThan(20);
  });
});

describe('decodeTranscription', () => {
  // Key 0 struck at frame 2 and held to frame 10; key 1 struck at frame 40; pedal down over frames 0-30.
  const frames = 60;
  const keys = 2;
  const post = (): PianoPosteriors => {
    const grid = (): Float32Array => new Float32Array(frames * keys);
    const onset = grid();
    const frame = grid();
    onset[2 * keys] = 0.9;
    onset[40 * keys + 1] = 0.9;
    for (let t = 2; t < 10; t++) frame[t * keys] = 0.9;
    for (let t = 40; t < 45; t++) frame[t * keys + 1] = 0.9;
    const pedal = new Float32Array(frames);
    pedal.fill(0.9, 0, 30);
    return { frames, keys, onset, offset: grid(), frame, velocity: grid().fill(0.5), pedal };
  };
  const th = { onset: 0.5, frame: 0.5, offset: 0.5 };

  it('gives the pedal spans and holds notes under the pedal only with pedalHoldSec', () => {
    const plain = decodeTranscription(post(), 0.02, th, 60, 0.5);
    expect(plain.pedal).toEqual([{ onsetSec: 0, offsetSec: 0.6 }]);
    expect(plain.notes.map((n) => n.offsetSec)).toEqual([0.2, 0.9]);
    const held = decodeTranscription(post(), 0.02, { ...th, pedalHoldSec: 1 }, 60, 0.5);
    // Held to the next onset (0.8 s) would pass the pedal's release: it ends with the pedal.
    expect(held.notes.map((n) => n.offsetSec)).toEqual([0.6, 0.9]);
  });

  it('gives notes only for a model without a pedal head', () => {
    const { pedal: _, ...noPedal } = post();
    expect(decodeTranscription(noPedal, 0.02, { ...th, pedalHoldSec: 1 }, 60, 0.5)).toEqual({ notes: decodeTranscription(post(), 0.02, th, 60, 0.5).notes });
  });
});
