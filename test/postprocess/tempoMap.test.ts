import { describe, expect, it } from 'vitest';
import { buildTempoMap } from '../../src/postprocess/tempoMap.js';

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
