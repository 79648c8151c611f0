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

/**
 * Velocity metrics: expected values computed with mir_eval 0.8.2
 * (`mir_eval.transcription_velocity.evaluate`) on the fixture note lists with these synthetic,
 * deterministic velocities (the shared fixtures have no velocity column).
 */
describe.skipIf(!existsSync(FIXTURES))('mir_eval transcription_velocity (values from mir_eval 0.8.2)', () => {
  const refVel = (k: number): number => 20 + ((k * 37) % 100);
  const estVel = (k: number): number => 0.5 * (20 + ((k * 37) % 100)) + 10 + ((k * 11) % 7);
  const withVel = (a: NoteArrays, f: (k: number) => number): NoteArrays => ({ ...a, velocities: Float64Array.from(a.velocities, (_, k) => f(k)) });
  const cases: Record<string, [number, number, number, number, number, number, number, number]> = {
    '00': [0.014423076923076924, 0.01276595744680851, 0.013544018058690745, 0.8761795851579124, 0.02403846153846154, 0.02127659574468085, 0.022573363431151242, 0.7549318046011644],
    '03': [0.027522935779816515, 0.02564102564102564, 0.02654867256637168, 0.8441280941280986, 0.06422018348623854, 0.05982905982905983, 0.061946902654867256, 0.41165883389020713],
    '07': [0.031746031746031744, 0.018867924528301886, 0.023668639053254437, 0.6883427276746237, 0.07936507936507936, 0.04716981132075472, 0.059171597633136105, 0.48761826929317],
  };
  for (const [id, e] of Object.entries(cases)) {
    it(`fixture ${id}`, () => {
      const ref = withVel(loadValuedIntervals(new URL(`ref${id}.txt`, FIXTURES)), refVel);
      const est = withVel(loadValuedIntervals(new URL(`est${id}.txt`, FIXTURES)), estVel);
      const a = precisionRecallF1OverlapVelocity(ref, est);
      const b = precisionRecallF1OverlapVelocity(ref, est, { offsetRatio: null });
      const got = [a.precision, a.recall, a.f1, a.averageOverlapRatio, b.precision, b.recall, b.f1, b.averageOverlapRatio];
      got.forEach((g, k) => expect(Math.abs(g - e[k]), `value ${k}: ${g} vs ${e[k]}`).toBeLessThanOrEqual(TOL));
    });
  }
  it('perturbed copy of the reference (affine velocity map + jitter)', () => {
    const ref = withVel(loadValuedIntervals(new URL('ref00.txt', FIXTURES)), refVel);
    const n = ref.onsetsSec.length;
    const est: NoteArrays = {
      onsetsSec: Float64Array.from(ref.onsetsSec, (v, k) => v + (((k * 7) % 5) - 2) * 0.01),
      offsetsSec: Float64Array.from(ref.offsetsSec, (v, k) => v + (((k * 3) % 5) - 2) * 0.03),
      pitchesHz: ref.pitchesHz,
      velocities: Float64Array.from({ length: n }, (_, k) => 0.7 * refVel(k) + 5 + (((k * 13) % 9) - 4) * 3),
    };
    const a = precisionRecallF1OverlapVelocity(ref, est);
    expect(Math.abs(a.f1 - 0.548936170212766)).toBeLessThanOrEqual(TOL);
    expect(Math.abs(a.averageOverlapRatio - 0.9459480537154393)).toBeLessThanOrEqual(TOL);
  });
});

describe('Function: evaluateNotes (properties)', () => {
  const ref: Note[] = [note(0.5, 1.0, 60, 40), note(0.5, 1.2, 64, 80), note(1.0, 1.5, 67, 100), note(2.0, 3.0, 72, 60)];

  it('a perfect estimate scores 1 everywhere', () => {
    const m = evaluateNotes(ref, ref);
    for (const s of [m.withOffset, m.onsetOnly, m.onsetAnyPitch, m.offsetAnyPitch, m.withOffsetVelocity, m.onsetVelocity]) {
      expect(s.precision).toBe(1);
      expect(s.recall).toBe(1);
      expect(s.f1).toBe(1);
    }
    expect(m.withOffset.averageOverlapRatio).toBe(1);
    expect(m.warnings).toEqual([]);
  });

  it('an empty estimate scores 0 with mir_eval\'s warning, and so does an empty reference', () => {
    const m = evaluateNotes(ref, []);
    expect(m.withOffset).toEqual({ precision: 0, recall: 0, f1: 0, averageOverlapRatio: 0 });
    expect(m.onsetAnyPitch).toEqual({ precision: 0, recall: 0, f1: 0 });
    expect(m.warnings).toEqual(['Estimated notes are empty.']);
    expect(evaluateNotes([], ref).warnings).toEqual(['Reference notes are empty.']);
    expect(evaluateNotes([], []).onsetOnly.f1).toBe(0);
  });

  it('does not depend on note order', () => {
    const est: Note[] = [note(0.52, 0.9, 60), note(0.49, 1.3, 64), note(1.06, 1.4, 67), note(2.01, 2.2, 72), note(2.0, 2.5, 71)];
    const shuffledRef = [ref[2], ref[0], ref[3], ref[1]];
    const shuffledEst = [est[4], est[2], est[0], est[3], est[1]];
    expect(evaluateNotes(shuffledRef, shuffledEst)).toEqual(evaluateNotes(ref, est));
  });

  it('counts 50 ms exactly as a hit (the 4-decimal rounding) and 50.1 ms as a miss', () => {
    expect(evaluateNotes([note(1.0, 2.0, 60)], [note(1.05, 2.0, 60)]).onsetOnly.f1).toBe(1);
    expect(evaluateNotes([note(0.1, 2.0, 60)], [note(0.15, 2.0, 60)]).onsetOnly.f1).toBe(1);
    expect(evaluateNotes([note(1.0, 2.0, 60)], [note(1.0501, 2.0, 60)]).onsetOnly.f1).toBe(0);
    expect(evaluateNotes([note(1.0, 2.0, 60)], [note(1.0, 2.0, 61)]).onsetOnly.f1).toBe(0);
  });

  it('uses max(20% of the reference duration, 50 ms) as the offset tolerance', () => {
    // 2 s note: tolerance 0.4 s.
    expect(evaluateNotes([note(0, 2, 60)], [note(0, 2.39, 60)]).withOffset.f1).toBe(1);
    expect(evaluateNotes([note(0, 2, 60)], [note(0, 2.41, 60)]).withOffset.f1).toBe(0);
    // 0.1 s note: tolerance 50 ms.
    expect(evaluateNotes([note(0, 0.1, 60)], [note(0, 0.15, 60)]).withOffset.f1).toBe(1);
    expect(evaluateNotes([note(0, 0.1, 60)], [note(0, 0.16, 60)]).withOffset.f1).toBe(0);
  });

  it('finds the optimal matching where a greedy one would not', () => {
    // est0 could take ref0 or ref1; est1 only ref0. Maximum matching pairs both.
    const r = [note(1.0, 2, 60), note(1.04, 2, 60)];
    const e = [note(1.02, 2, 60), note(0.96, 2, 60)];
    expect(evaluateNotes(r, e).onsetOnly.f1).toBe(1);
  });

  it('rounds like np.around(x, 4) (values checked against numpy 2.4)', () => {
    const cases: Array<[number, number]> = [
      [0.00005, 0],
      [0.00015, 0.0001],
      [0.00025, 0.0002],
      [0.00035, 0.0004],
      [0.05000000001, 0.05],
      [0.0500499999, 0.05],
    ];
    for (const [x, y] of cases) expect(roundHalfEven4(x)).toBe(y);
    expect(midiToHz(69)).toBe(440);
  });
});

describe('Function: validateNotes (mir_eval wording)', () => {
  it('rejects malformed intervals and pitches', () => {
    const ok = arrays([[0, 1, 440]]);
    expect(() => precisionRecallF1Overlap(arrays([[1, 0.5, 440]]), ok)).toThrow(/All interval durations must be strictly positive/);
    expect(() => precisionRecallF1Overlap(arrays([[-1, 0.5, 440]]), ok)).toThrow(/Negative interval times found/);
    expect(() => precisionRecallF1Overlap(ok, arrays([[0, 1, 0]]))).toThrow(/Estimate contains at least one non-positive pitch value/);
    expect(() => precisionRecallF1Overlap(ok, arrays([[0, 40000, 440]]))).toThrow(/did you supply times in seconds\?/);
    expect(() => precisionRecallF1Overlap(ok, arrays([[0, 40000, 440]]))).toThrow(EvalInputError);
  });
});
