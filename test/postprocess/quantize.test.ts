import { describe, expect, it } from 'vitest';
import { alignChordOnsets, gridPoints, quantizeNotes, subdivisionsPerBeat } from '../../src/postprocess/quantize.js';
import { note, rng } from './helpers.js';

const beats = [0, 0.5, 1.0, 1.5, 2.0, 2.6, 3.2]; // the last two beats slower: the grid follows them

describe('subdivisionsPerBeat', () => {
  it('maps grid names to subdivisions of a quarter-note beat', () => {
    expect(subdivisionsPerBeat('1/4')).toBe(1);
    expect(subdivisionsPerBeat('1/8')).toBe(2);
    expect(subdivisionsPerBeat('1/16')).toBe(4);
    expect(subdivisionsPerBeat('1/8t')).toBe(3);
    expect(subdivisionsPerBeat('1/16t')).toBe(6);
  });
});

describe('quantizeNotes', () => {
  const r = rng(3);
  const notes = Array.from({ length: 40 }, (_, i) => note(0.05 + i * 0.077 + r() * 0.03, 60 + (i % 12), 0.1 + r() * 0.2));

  it('strength 0 changes nothing', () => {
    expect(quantizeNotes(notes, beats, '1/16', 0)).toEqual(notes);
  });

  it('strength 1 snaps every onset exactly onto the beat-relative grid and keeps durations', () => {
    const grid = gridPoints(beats, 4, 0, 4);
    const q = quantizeNotes(notes, beats, '1/16', 1);
    q.forEach((n, i) => {
      expect(Math.min(...grid.map((g) => Math.abs(g - n.onsetSec)))).toBeLessThan(1e-9);
      expect(n.offsetSec - n.onsetSec).toBeCloseTo(notes[i].offsetSec - notes[i].onsetSec, 9);
    });
    // Between 2.0 and 2.6 s the sixteenths are 0.15 s apart.
    expect(grid).toContain(2.15);
  });

  it('strength 0.5 moves each onset half way', () => {
    const full = quantizeNotes(notes, beats, '1/8', 1);
    const half = quantizeNotes(notes, beats, '1/8', 0.5);
    half.forEach((n, i) => expect(n.onsetSec).toBeCloseTo(0.5 * (notes[i].onsetSec + full[i].onsetSec), 9));
  });

  it('triplet grids divide each beat into three', () => {
    const q = quantizeNotes([note(0.17, 60)], beats, '1/8t', 1);
    expect(q[0].onsetSec).toBeCloseTo(0.5 / 3, 9);
  });
});

describe('alignChordOnsets', () => {
  it('makes chord notes within 30 ms start together and leaves separate notes alone', () => {
    const chord = [note(1.0, 60, 0.5, 80), note(1.012, 64, 0.5, 80), note(1.025, 67, 0.5, 80)];
    const later = note(1.2, 72);
    const out = alignChordOnsets([...chord, later], 0.03);
    const onsets = out.slice(0, 3).map((n) => n.onsetSec);
    expect(new Set(onsets).size).toBe(1);
    expect(onsets[0]).toBeCloseTo((1.0 + 1.012 + 1.025) / 3, 9);
    expect(out[3]).toEqual(later);
    // Offsets are kept.
    out.slice(0, 3).forEach((n, i) => expect(n.offsetSec).toBe(chord[i].offsetSec));
  });

  it('does not merge notes further apart than the window', () => {
    const out = alignChordOnsets([note(1.0, 60), note(1.05, 64)], 0.03);
    expect(out.map((n) => n.onsetSec)).toEqual([1.0, 1.05]);
  });
});
