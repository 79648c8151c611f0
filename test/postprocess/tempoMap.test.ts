import { describe, expect, it } from 'vitest';
import { buildTempoMap, mergeRepeatedTempos, steadyBeats } from '../../src/postprocess/tempoMap.js';
import { rng } from './helpers.js';

describe('buildTempoMap', () => {
  it('one tempo per beat, a lead-in to the first beat, and a pickup bar before the first downbeat', () => {
    const beats = [0.9, 1.5, 2.1, 2.8, 3.4, 4.0];
    const map = buildTempoMap(beats, 4, 2);
    expect(map.tempos[0]).toEqual({ timeSec: 0, bpm: (60 * 2) / 0.9 }); // round(0.9 / 0.6) = 2 lead-in beats
    expect(map.tempos[1]).toEqual({ timeSec: 0.9, bpm: 100 });
    expect(map.tempos[3].bpm).toBeCloseTo(60 / 0.7, 9);
    expect(map.tempos).toHaveLength(1 + beats.length - 1);
    // First downbeat is MIDI beat 2 + 2 = 4: a whole bar, so no pickup signature.
    expect(map.timeSignatures).toEqual([{ timeSec: 0, numerator: 4, denominator: 4 }]);
    const waltz = buildTempoMap(beats, 3, 2);
    // MIDI beat 4 in 3/4: a 1-beat pickup bar, then 3/4 from MIDI beat 1 (0.45 s).
    expect(waltz.timeSignatures).toEqual([
      { timeSec: 0, numerator: 1, denominator: 4 },
      { timeSec: 0.45, numerator: 3, denominator: 4 },
    ]);
  });

  it('puts a first beat a few ms after 0 s at 0 s instead of writing a tiny lead-in', () => {
    const map = buildTempoMap([0.014, 0.514, 1.014], 4, 0);
    expect(map.tempos[0]).toEqual({ timeSec: 0, bpm: 60 / 0.514 });
    expect(map.tempos[1]).toEqual({ timeSec: 0.514, bpm: 120 });
    expect(map.timeSignatures).toEqual([{ timeSec: 0, numerator: 4, denominator: 4 }]);
  });

  it('falls back to 120 BPM 4/4 without beats', () => {
    expect(buildTempoMap([1], 4, 0).tempos).toEqual([{ timeSec: 0, bpm: 120 }]);
  });
});

describe('steadyBeats', () => {
  it('replaces jittered metronomic beats by one steady 96 BPM grid within the tolerance', () => {
    const r = rng(3);
    const beats = Array.from({ length: 40 }, (_, k) => 0.5 + (60 / 96) * k + (r() - 0.5) * 0.05);
    const grid = steadyBeats(beats, { toleranceSec: 0.04 });
    grid.forEach((g, k) => expect(Math.abs(g - beats[k])).toBeLessThanOrEqual(0.04 + 1e-9));
    const ibis = grid.slice(1).map((g, k) => g - grid[k]);
    for (const ibi of ibis) expect(ibi).toBeCloseTo(60 / 96, 9);
    const map = mergeRepeatedTempos(buildTempoMap(grid, 4, 0));
    expect(map.tempos.map((t) => Math.round(t.bpm * 1000) / 1000).slice(1)).toEqual([96]);
  });

  it('cuts a sudden tempo change into two steady segments, and leaves free rubato per beat', () => {
    const beats: number[] = [];
    let t = 0;
    for (let k = 0; k < 20; k++) beats.push((t += 0.5));
    for (let k = 0; k < 20; k++) beats.push((t += 0.75));
    const map = mergeRepeatedTempos(buildTempoMap(steadyBeats(beats), 4, 0));
    expect(map.tempos.map((e) => e.bpm)).toEqual([120, 80]); // the lead-in to 0.5 s is at 120 too
    const rubato = [0, 0.5, 1.2, 1.5, 2.3, 2.6, 3.5];
    expect(steadyBeats(rubato, { toleranceSec: 0.02 }).every((g, k) => Math.abs(g - rubato[k]) <= 0.02 + 1e-9)).toBe(true);
  });

  it('puts a few mistracked beats (pulled to syncopated notes) on the steady grid instead of cutting it', () => {
    const beats = Array.from({ length: 32 }, (_, k) => 1 + 0.625 * k);
    beats[5] += 0.07;
    beats[11] += 0.09;
    beats[12] += 0.06;
    beats[20] -= 0.08;
    const grid = steadyBeats(beats);
    grid.forEach((g, k) => expect(g).toBeCloseTo(1 + 0.625 * k, 6));
    // ... but not when most beats leave the line: that is a tempo change.
    const strict = steadyBeats(beats, { minInlierFraction: 1 });
    expect(mergeRepeatedTempos(buildTempoMap(strict, 4, 0)).tempos.length).toBeGreaterThan(2);
  });

  it('keeps short lists as they are', () => {
    expect(steadyBeats([0.5, 1.1])).toEqual([0.5, 1.1]);
  });
});
