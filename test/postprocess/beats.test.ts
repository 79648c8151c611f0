import { describe, expect, it } from 'vitest';
import { trackBeats } from '../../src/postprocess/beats.js';
import { estimateMeter } from '../../src/postprocess/meter.js';
import { beatFMeasure, medianTempoBpm } from '../../src/postprocess/metrics.js';
import type { Note } from '../../src/types.js';
import { note, rng } from './helpers.js';

describe('trackBeats', () => {
  it('finds beats 0.6 s apart in a metronomic sequence at 100 BPM', () => {
    const notes: Note[] = [];
    for (let i = 0; i < 48; i++) notes.push(note(1 + 0.6 * i, 60 + (i % 5), 0.3));
    const beats = trackBeats(notes);
    const ibis = beats.slice(1).map((b, i) => b - beats[i]);
    for (const ibi of ibis) expect(ibi).toBeCloseTo(0.6, 2);
    expect(beats[0]).toBeCloseTo(1, 2);
    expect(beatFMeasure(notes.map((n) => n.onsetSec), beats)).toBeGreaterThan(0.97);
  });

  it('tracks quarter beats through eighth-note motion with accented beats and jitter', () => {
    const r = rng(7);
    const notes: Note[] = [];
    const ref: number[] = [];
    for (let i = 0; i < 64; i++) {
      const beat = 0.5 + 0.5 * i + (r() - 0.5) * 0.02;
      ref.push(beat);
      notes.push(note(beat, 48, 0.45, 100), note(beat, 64, 0.2, 80), note(beat + 0.25, 67, 0.2, 55));
    }
    const beats = trackBeats(notes);
    expect(medianTempoBpm(beats)).toBeGreaterThan(114);
    expect(medianTempoBpm(beats)).toBeLessThan(126);
    expect(beatFMeasure(ref, beats)).toBeGreaterThan(0.9);
  });

  it('follows a gradual ritardando (tempo map, not one tempo)', () => {
    const notes: Note[] = [];
    const ref: number[] = [];
    let t = 0.5;
    for (let i = 0; i < 60; i++) {
      const ibi = 0.5 + (0.3 * i) / 59; // 120 -> 75 BPM
      ref.push(t);
      notes.push(note(t, 50, 0.3, 90), note(t, 62, 0.3, 70));
      t += ibi;
    }
    expect(beatFMeasure(ref, trackBeats(notes))).toBeGreaterThan(0.9);
  });

  it('returns no beats for fewer than two notes', () => {
    expect(trackBeats([])).toEqual([]);
    expect(trackBeats([note(1, 60)])).toEqual([]);
  });
});

describe('estimateMeter', () => {
  /** Oom-pah-pah: bass on 1, chords on 2 and 3, harmony changing every bar. */
  function waltz(): { notes: Note[]; beats: number[] } {
    const notes: Note[] = [];
    const beats: number[] = [];
    const roots = [48, 53, 55, 48, 45, 50, 55, 48];
    for (let bar = 0; bar < 16; bar++) {
      const root = roots[bar % roots.length];
      for (let b = 0; b < 3; b++) {
        const t = 1 + 0.5 * (3 * bar + b);
        beats.push(t);
        if (b === 0) notes.push(note(t, root - 12, 0.45, 95));
        else notes.push(note(t, root + 4, 0.25, 60), note(t, root + 7, 0.25, 60));
      }
    }
    return { notes, beats };
  }

  it('guesses 3/4 for a waltz pattern, with downbeats on the bass notes', () => {
    const { notes, beats } = waltz();
    const m = estimateMeter(notes, beats);
    expect(m.beatsPerBar).toBe(3);
    expect(m.firstDownbeatIndex).toBe(0);
    expect(m.downbeatsSec).toHaveLength(16);
  });

  it('guesses 3/4 for the waltz when the beats are tracked from the notes', () => {
    const { notes } = waltz();
    const beats = trackBeats(notes);
    expect(estimateMeter(notes, beats).beatsPerBar).toBe(3);
  });

  it('guesses 4/4 for a four-beat pattern with a pickup beat', () => {
    const notes: Note[] = [];
    const beats: number[] = [];
    const roots = [48, 53, 55, 48, 45, 50, 43, 48];
    // One pickup beat, then 12 bars of bass on 1, chord on 2, bass fifth on 3, chord on 4.
    beats.push(0.5);
    notes.push(note(0.5, 67, 0.2, 60));
    for (let bar = 0; bar < 12; bar++) {
      const root = roots[bar % roots.length];
      for (let b = 0; b < 4; b++) {
        const t = 1 + 0.5 * (4 * bar + b);
        beats.push(t);
        if (b === 0) notes.push(note(t, root - 12, 0.9, 100));
        else if (b === 2) notes.push(note(t, root - 5, 0.4, 70));
        else notes.push(note(t, root + 4, 0.2, 60), note(t, root + 7, 0.2, 60));
      }
    }
    const m = estimateMeter(notes, beats);
    expect(m.beatsPerBar).toBe(4);
    expect(m.firstDownbeatIndex).toBe(1);
  });
});
