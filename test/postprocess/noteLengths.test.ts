import { describe, expect, it } from 'vitest';
import {
  adjustNoteLengths,
  applyLegato,
  applyMinimumDuration,
  applySustainPedal,
  mergeFragments,
} from '../../src/postprocess/noteLengths.js';
import { note } from './helpers.js';

describe('mergeFragments', () => {
  it('merges fragments of one held note (same pitch, tiny gap)', () => {
    const out = mergeFragments([note(1.0, 60, 0.2, 80), note(1.21, 60, 0.3, 60), note(1.52, 60, 0.2, 50)], 0.02);
    expect(out).toHaveLength(1);
    expect(out[0].onsetSec).toBe(1.0);
    expect(out[0].offsetSec).toBeCloseTo(1.72, 9);
    expect(out[0].velocity).toBe(80);
  });

  it('keeps re-strikes: a louder note, a longer gap, or another pitch', () => {
    expect(mergeFragments([note(1.0, 60, 0.2, 50), note(1.21, 60, 0.2, 90)], 0.02)).toHaveLength(2);
    expect(mergeFragments([note(1.0, 60, 0.2), note(1.3, 60, 0.2)], 0.02)).toHaveLength(2);
    expect(mergeFragments([note(1.0, 60, 0.2), note(1.21, 62, 0.2)], 0.02)).toHaveLength(2);
  });
});

describe('applyMinimumDuration', () => {
  it('lengthens short notes but not past the next note of the same pitch', () => {
    const out = applyMinimumDuration([note(1.0, 60, 0.01), note(1.05, 60, 0.2), note(2, 62, 0.02)], 0.1);
    expect(out[0].offsetSec).toBeCloseTo(1.05, 9);
    expect(out[1].offsetSec).toBeCloseTo(1.25, 9);
    expect(out[2].offsetSec).toBeCloseTo(2.1, 9);
  });
});

describe('applyLegato', () => {
  it('extends each note to the next onset, within the gap limit', () => {
    const out = applyLegato([note(0, 60, 0.2), note(0.5, 62, 0.2), note(3, 64, 0.2)], 1);
    expect(out[0].offsetSec).toBe(0.5);
    expect(out[1].offsetSec).toBeCloseTo(0.7, 9); // 2.3 s gap > 1 s: unchanged
    expect(out[2].offsetSec).toBeCloseTo(3.2, 9);
  });

  it('reaches past the notes of its own chord, which start a frame or two after it', () => {
    const out = applyLegato([note(0, 60, 0.2), note(0.02, 64, 0.2), note(0.5, 67, 0.2)], 1);
    expect(out.map((n) => n.offsetSec)).toEqual([0.5, 0.5, 0.7]);
  });
});

describe('applySustainPedal', () => {
  it('holds notes released under the pedal until it lifts, stopping at a re-strike', () => {
    const pedal = [{ onsetSec: 0.5, offsetSec: 2.0 }];
    const out = applySustainPedal([note(0.4, 60, 0.3), note(0.6, 64, 0.2), note(1.5, 64, 0.2), note(2.5, 67, 0.2)], pedal);
    expect(out[0].offsetSec).toBe(2.0);
    expect(out[1].offsetSec).toBe(1.5);
    expect(out[2].offsetSec).toBe(2.0);
    expect(out[3].offsetSec).toBeCloseTo(2.7, 9);
  });
});

describe('adjustNoteLengths', () => {
  it('never leaves same-pitch overlaps and keeps every onset', () => {
    const notes = [note(0, 60, 1.0), note(0.5, 60, 0.2), note(0.6, 62, 0.01)];
    const out = adjustNoteLengths(notes, undefined, {
      mergeGapSec: 0.02,
      minDurationSec: 0.06,
      legato: false,
      legatoMaxGapSec: 1,
      pedal: true,
    });
    expect(out.map((n) => n.onsetSec)).toEqual([0, 0.5, 0.6]);
    expect(out[0].offsetSec).toBe(0.5);
    expect(out[2].offsetSec - out[2].onsetSec).toBeCloseTo(0.06, 9);
  });
});
