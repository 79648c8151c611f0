import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EvalInputError } from '../../src/eval/errors.js';
import { parseNumberTable } from '../../src/eval/io.js';
import {
  evaluateNotes,
  midiToHz,
  offsetPrecisionRecallF1,
  onsetPrecisionRecallF1,
  precisionRecallF1Overlap,
  precisionRecallF1OverlapVelocity,
  roundHalfEven4,
  type NoteArrays,
} from '../../src/eval/transcription.js';
import type { Note } from '../../src/types.js';

const FIXTURES = new URL('../../../shared/data/fixtures/mir_eval/transcription/', import.meta.url);
const TOL = 1e-6;

/** mir_eval.io.load_valued_intervals: `onset offset value` rows (value = Hz here). */
function loadValuedIntervals(path: URL): NoteArrays {
  const rows = parseNumberTable(readFileSync(path, 'utf8'), 3, path.pathname);
  return {
    onsetsSec: Float64Array.from(rows, (r) => r[0]),
    offsetsSec: Float64Array.from(rows, (r) => r[1]),
    pitchesHz: Float64Array.from(rows, (r) => r[2]),
    velocities: Float64Array.from(rows, () => 100),
  };
}

function arrays(notes: Array<[number, number, number, number?]>): NoteArrays {
  return {
    onsetsSec: Float64Array.from(notes, (n) => n[0]),
    offsetsSec: Float64Array.from(notes, (n) => n[1]),
    pitchesHz: Float64Array.from(notes, (n) => n[2]),
    velocities: Float64Array.from(notes, (n) => n[3] ?? 100),
  };
}

const note = (onsetSec: number, offsetSec: number, pitchMidi: number, velocity = 80): Note => ({
  onsetSec,
  offsetSec,
  pitchMidi,
  velocity,
  confidence: 1,
});

describe.skipIf(!existsSync(FIXTURES))('mir_eval transcription regression fixtures', () => {
  const ids = existsSync(FIXTURES)
    ? readdirSync(FIXTURES)
        .filter((f) => /^output\d+\.json$/.test(f))
        .map((f) => f.slice(6, 8))
    : [];
  it('finds the fixtures', () => expect(ids.length).toBeGreaterThanOrEqual(10));
  for (const id of ids) {
    it(`reproduces output${id}.json`, () => {
      const ref = loadValuedIntervals(new URL(`ref${id}.txt`, FIXTURES));
      const est = loadValuedIntervals(new URL(`est${id}.txt`, FIXTURES));
      const expected = JSON.parse(readFileSync(new URL(`output${id}.json`, FIXTURES), 'utf8')) as Record<string, number>;
      const withOffset = precisionRecallF1Overlap(ref, est);
      const noOffset = precisionRecallF1Overlap(ref, est, { offsetRatio: null });
      const onset = onsetPrecisionRecallF1(ref, est);
      const offset = offsetPrecisionRecallF1(ref, est);
      const got: Record<string, number> = {
        Precision: withOffset.precision,
        Recall: withOffset.recall,
        'F-measure': withOffset.f1,
        Average_Overlap_Ratio: withOffset.averageOverlapRatio,
        Precision_no_offset: noOffset.precision,
        Recall_no_offset: noOffset.recall,
        'F-measure_no_offset': noOffset.f1,
        Average_Overlap_Ratio_no_offset: noOffset.averageOverlapRatio,
        Onset_Precision: onset.precision,
        Onset_Recall: onset.recall,
        'Onset_F-measure': onset.f1,
        Offset_Precision: offset.precision,
        Offset_Recall: offset.recall,
        'Offset_F-measure': offset.f1,
      };
      expect(Object.keys(expected).sort()).toEqual(Object.keys(got).sort());
      for (const key of Object.keys(expected)) {
        expect(Math.abs(got[key] - expected[key]), `${key}: got ${got[key]}, mir_eval ${expected[key]}`).toBeLessThanOrEqual(TOL);
      }
    });
  }
});
