import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { frameMetrics, notesToPianoRoll, roundHalfEven } from '../../src/eval/frames.js';
import { parseNumberTable } from '../../src/eval/io.js';
import type { Note } from '../../src/types.js';

const FIXTURES = new URL('../../../shared/data/fixtures/mir_eval/transcription/', import.meta.url);

const note = (onsetSec: number, offsetSec: number, pitchMidi: number): Note => ({ onsetSec, offsetSec, pitchMidi, velocity: 80, confidence: 1 });

/** Fixture notes (Hz) as MIDI notes. */
function loadNotes(name: string): Note[] {
  return parseNumberTable(readFileSync(new URL(name, FIXTURES), 'utf8'), 3).map((r) => note(r[0], r[1], 69 + 12 * Math.log2(r[2] / 440)));
}

describe('Function: frameMetrics', () => {
  it('scores a perfect estimate 1 and an empty one 0', () => {
    const ref = [note(0, 1, 60), note(0.5, 1.5, 64)];
    expect(frameMetrics(ref, ref)).toMatchObject({ precision: 1, recall: 1, f1: 1, accuracy: 1 });
    expect(frameMetrics(ref, [])).toMatchObject({ precision: 0, recall: 0, f1: 0, accuracy: 0 });
    expect(frameMetrics([], ref)).toMatchObject({ precision: 0, recall: 0, f1: 0 });
  });

  it('counts 10 ms cells: half the frames right gives P = 1, R = 0.5', () => {
    const m = frameMetrics([note(0, 1, 60)], [note(0, 0.5, 60)]);
    expect(m.refActive).toBe(100);
    expect(m.estActive).toBe(50);
    expect(m.precision).toBe(1);
    expect(m.recall).toBe(0.5);
  });

  it('counts overlapping same-pitch notes once and ignores order', () => {
    const ref = [note(0, 1, 60)];
    const est = [note(0.5, 1, 60), note(0, 0.6, 60)];
    expect(frameMetrics(ref, est).estActive).toBe(100);
    expect(frameMetrics(ref, [...est].reverse())).toEqual(frameMetrics(ref, est));
  });

  it('rounds like numpy and builds a piano roll', () => {
    expect([0.5, 1.5, 2.5, 2.5000001].map(roundHalfEven)).toEqual([0, 2, 2, 3]);
    const roll = notesToPianoRoll([note(0, 0.03, 60)], 5);
    expect(Array.from({ length: 5 }, (_, k) => roll[k * 128 + 60])).toEqual([1, 1, 1, 0, 0]);
  });
});

/**
 * The same notes-to-frames conversion fed to `mir_eval.multipitch.evaluate` (mir_eval 0.8.2) gives
 * these precision/recall/accuracy values: the frame metrics are mir_eval's multi-pitch metrics on
 * this piano roll.
 */
describe.skipIf(!existsSync(FIXTURES))('frame metrics vs mir_eval.multipitch', () => {
  const expected: Record<string, [number, number, number]> = {
    '00': [0.8699629171817058, 0.4021024967148489, 0.3793047696038804],
    '04': [0.5401811524378493, 0.6297461244664121, 0.4099751352932573],
    '08': [0.5101175563692426, 0.4181674565560822, 0.29835437330928766],
  };
  for (const [id, [p, r, a]] of Object.entries(expected)) {
    it(`fixture ${id}`, () => {
      const m = frameMetrics(loadNotes(`ref${id}.txt`), loadNotes(`est${id}.txt`));
      expect(Math.abs(m.precision - p)).toBeLessThan(1e-9);
      expect(Math.abs(m.recall - r)).toBeLessThan(1e-9);
      expect(Math.abs(m.accuracy - a)).toBeLessThan(1e-9);
    });
  }
});
