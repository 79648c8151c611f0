import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { decodeNotes, inferOnsets, N_PITCHES, onsetPeaks, type FrameNote } from '../../src/transcription/notes.js';

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A plausible posteriorgram: random notes (onset blip + sustained frames) over low noise. */
function synthetic(nbFrames: number, nbNotes: number, seed: number, noise = 0.34): { frames: Float32Array; onsets: Float32Array } {
  const r = rng(seed);
  const frames = new Float32Array(nbFrames * N_PITCHES);
  const onsets = new Float32Array(nbFrames * N_PITCHES);
  for (let i = 0; i < frames.length; i++) {
    frames[i] = noise * r() ** 3;
    onsets[i] = 0.2 * r() ** 4;
  }
  for (let n = 0; n < nbNotes; n++) {
    const k = Math.floor(r() * N_PITCHES);
    const start = Math.floor(r() * nbFrames);
    const len = 3 + Math.floor(r() * 60);
    const level = 0.35 + 0.6 * r();
    for (let t = start; t < Math.min(nbFrames, start + len); t++) {
      const v = level * (1 - (0.5 * (t - start)) / len) + 0.1 * (r() - 0.5);
      frames[t * N_PITCHES + k] = Math.max(frames[t * N_PITCHES + k], v);
    }
    if (r() < 0.8) onsets[start * N_PITCHES + k] = Math.max(onsets[start * N_PITCHES + k], 0.3 + 0.7 * r());
  }
  return { frames, onsets };
}

/**
 * Upstream's `output_to_notes_polyphonic` transcribed literally from basic_pitch/note_creation.py
 * (default options), including its global argmax per melodia note. Quadratic; small inputs only.
 */
function upstreamPython(framesIn: Float32Array, onsetsIn: Float32Array, nbFrames: number): FrameNote[] {
  const P = N_PITCHES;
  const frames = framesIn;
  const onsets = inferOnsets(onsetsIn, frames, nbFrames);
  // scipy.signal.argrelmax(onsets, axis=0) (mode "clip": no edge peaks); np.where(>= 0.5), reversed
  const idx: Array<[number, number]> = [];
  for (let t = 0; t < nbFrames; t++)
    for (let k = 0; k < P; k++) {
      const v = onsets[t * P + k];
      const prev = onsets[Math.max(t - 1, 0) * P + k];
      const next = onsets[Math.min(t + 1, nbFrames - 1) * P + k];
      if (v > prev && v > next && v >= 0.5) idx.push([t, k]);
    }
  idx.reverse();
  const rem = Float64Array.from(frames);
  const out: FrameNote[] = [];
  const mean = (k: number, s: number, e: number): number => {
    let sum = 0;
    for (let t = s; t < e; t++) sum += frames[t * P + k];
    return sum / (e - s);
  };
  for (const [s, k] of idx) {
    if (s >= nbFrames - 1) continue;
    let i = s + 1;
    let c = 0;
    while (i < nbFrames - 1 && c < 11) {
      c = rem[i * P + k] < 0.3 ? c + 1 : 0;
      i++;
    }
    i -= c;
    if (i - s <= 11) continue;
    for (let t = s; t < i; t++) for (const kk of [k - 1, k, k + 1]) if (kk >= 0 && kk < P) rem[t * P + kk] = 0;
    out.push({ startFrame: s, endFrame: i, pitchMidi: k + 21, amplitude: mean(k, s, i) });
  }
  for (;;) {
    let best = 0;
    for (let j = 1; j < rem.length; j++) if (rem[j] > rem[best]) best = j;
    if (!(rem[best] > 0.3)) break;
    const m = Math.floor(best / P);
    const k = best % P;
    rem[best] = 0;
    const clear = (t: number): void => {
      for (const kk of [k - 1, k, k + 1]) if (kk >= 0 && kk < P) rem[t * P + kk] = 0;
    };
    let i = m + 1;
    let c = 0;
    while (i < nbFrames - 1 && c < 11) {
      c = rem[i * P + k] < 0.3 ? c + 1 : 0;
      clear(i);
      i++;
    }
    const e = i - 1 - c;
    i = m - 1;
    c = 0;
    while (i > 0 && c < 11) {
      c = rem[i * P + k] < 0.3 ? c + 1 : 0;
      clear(i);
      i--;
    }
    const s = i + 1 + c;
    if (e - s <= 11) continue;
    out.push({ startFrame: s, endFrame: e, pitchMidi: k + 21, amplitude: mean(k, s, e) });
  }
  return out;
}

describe('decodeNotes', () => {
  it.each([1, 2, 3, 4, 5])('gives exactly upstream Python\'s notes, in its order (random posteriorgram, seed %i)', (seed) => {
    const nbFrames = 300;
    const { frames, onsets } = synthetic(nbFrames, 60, seed);
    const expected = upstreamPython(frames, onsets, nbFrames);
    const got = decodeNotes(frames, onsets, nbFrames);
    expect(expected.length).toBeGreaterThan(20);
    expect(got.length).toBe(expected.length);
    got.forEach((n, i) => {
      expect([n.startFrame, n.endFrame, n.pitchMidi]).toEqual([expected[i].startFrame, expected[i].endFrame, expected[i].pitchMidi]);
      expect(n.amplitude).toBeCloseTo(expected[i].amplitude, 6);
    });
  });

  it("agrees with @spotify/basic-pitch's own JS outputToNotesPoly where the ports agree", () => {
    // The JS port differs from the Python only at the first/last frame and at values exactly on
    // the onset threshold; zero edges avoid both.
    const require = createRequire(import.meta.url);
    const upstream = require('@spotify/basic-pitch/cjs/toMidi.js') as {
      outputToNotesPoly: (f: number[][], o: number[][], ot: number, ft: number, minLen: number) => Array<{ startFrame: number; durationFrames: number; pitchMidi: number; amplitude: number }>;
    };
    const nbFrames = 400;
    const { frames, onsets } = synthetic(nbFrames, 90, 42);
    for (const t of [0, nbFrames - 1]) {
      frames.fill(0, t * N_PITCHES, (t + 1) * N_PITCHES);
      onsets.fill(0, t * N_PITCHES, (t + 1) * N_PITCHES);
    }
    const rows = (x: Float32Array): number[][] => Array.from({ length: nbFrames }, (_, t) => Array.from(x.subarray(t * N_PITCHES, (t + 1) * N_PITCHES)));
    const theirs = upstream.outputToNotesPoly(rows(frames), rows(onsets), 0.5, 0.3, 11);
    const ours = decodeNotes(frames, onsets, nbFrames);
    expect(ours.map((n) => [n.startFrame, n.endFrame - n.startFrame, n.pitchMidi])).toEqual(
      theirs.map((n) => [n.startFrame, n.durationFrames, n.pitchMidi]),
    );
  });

  it('follows a note through short dips and ends it after 11 quiet frames', () => {
    const nbFrames = 100;
    const frames = new Float32Array(nbFrames * N_PITCHES);
    const onsets = new Float32Array(nbFrames * N_PITCHES);
    const k = 39; // MIDI 60
    for (let t = 10; t < 60; t++) frames[t * N_PITCHES + k] = t >= 30 && t < 38 ? 0.1 : 0.8; // 8-frame dip
    onsets[10 * N_PITCHES + k] = 0.9;
    const notes = decodeNotes(frames, onsets, nbFrames, { inferOnsets: false });
    expect(notes).toEqual([{ startFrame: 10, endFrame: 60, pitchMidi: 60, amplitude: expect.closeTo((42 * 0.8 + 8 * 0.1) / 50, 6) }]);
  });

  it('drops notes of 11 frames or fewer, keeps 12', () => {
    const nbFrames = 80;
    const make = (len: number): FrameNote[] => {
      const frames = new Float32Array(nbFrames * N_PITCHES);
      const onsets = new Float32Array(nbFrames * N_PITCHES);
      for (let t = 20; t < 20 + len; t++) frames[t * N_PITCHES + 50] = 0.9;
      onsets[20 * N_PITCHES + 50] = 0.9;
      return decodeNotes(frames, onsets, nbFrames, { inferOnsets: false, melodiaTrick: false });
    };
    expect(make(11)).toEqual([]);
    expect(make(12).map((n) => [n.startFrame, n.endFrame])).toEqual([[20, 32]]);
  });

  it('does not modify its inputs and handles empty input', () => {
    const { frames, onsets } = synthetic(120, 20, 7);
    const f0 = frames.slice();
    const o0 = onsets.slice();
    decodeNotes(frames, onsets, 120, { minFreqHz: 100, maxFreqHz: 2000 });
    expect(frames).toEqual(f0);
    expect(onsets).toEqual(o0);
    expect(decodeNotes(new Float32Array(0), new Float32Array(0), 0)).toEqual([]);
    expect(() => decodeNotes(new Float32Array(10), new Float32Array(10), 1)).toThrow(/nb_frames \* 88/);
  });

  it('constrains frequencies as upstream (min/max in Hz)', () => {
    const { frames, onsets } = synthetic(300, 80, 9);
    const notes = decodeNotes(frames, onsets, 300, { minFreqHz: 261.63, maxFreqHz: 1046.5 });
    expect(notes.length).toBeGreaterThan(0);
    for (const n of notes) {
      expect(n.pitchMidi).toBeGreaterThanOrEqual(60);
      expect(n.pitchMidi).toBeLessThan(84);
    }
  });
});

describe('seam-aware onset inference', () => {
  // A held note whose posterior steps from 0.4 to 0.8 at frame 142, where the kept frames of two
  // network windows meet; the second window itself saw 0.8 for the frames before the seam.
  const nbFrames = 300;
  const k = 46;
  const frames = new Float32Array(nbFrames * N_PITCHES);
  const onsets = new Float32Array(nbFrames * N_PITCHES);
  for (let t = 20; t < 280; t++) frames[t * N_PITCHES + k] = t < 142 ? 0.4 : 0.8;
  onsets[20 * N_PITCHES + k] = 0.9;
  const framesBefore = new Float32Array(3 * 2 * N_PITCHES);
  for (let s = 1; s < 3; s++) for (let n = 0; n < 2; n++) framesBefore[(s * 2 + n) * N_PITCHES + k] = 0.8;

  it('without the seams, the step becomes an onset and splits the note (upstream behaviour)', () => {
    const notes = decodeNotes(frames, onsets, nbFrames);
    expect(notes.map((n) => [n.startFrame, n.endFrame])).toEqual([[142, 280], [20, 142]]);
  });

  it('with the seams, the note stays whole', () => {
    const notes = decodeNotes(frames, onsets, nbFrames, { segments: { segmentFrames: 142, framesBefore } });
    expect(notes.map((n) => [n.startFrame, n.endFrame])).toEqual([[20, 280]]);
  });

  it('a real rise right after a seam is still an onset', () => {
    const f = frames.slice();
    for (let t = 150; t < 200; t++) f[t * N_PITCHES + 60] = 0.9; // a new note 8 frames after the seam
    const notes = decodeNotes(f, onsets, nbFrames, { segments: { segmentFrames: 142, framesBefore } });
    expect(notes.some((n) => n.pitchMidi === 81 && n.startFrame === 150)).toBe(true);
  });
});

describe('onsetPeaks', () => {
  it('never picks the first or last frame, counts values equal to the threshold, latest first', () => {
    const nbFrames = 5;
    const x = new Float32Array(nbFrames * N_PITCHES);
    x[0 * N_PITCHES + 3] = 0.9; // first frame: not a peak (scipy "clip")
    x[4 * N_PITCHES + 3] = 0.9; // last frame: not a peak
    x[2 * N_PITCHES + 3] = 0.5; // exactly the threshold: a peak
    x[1 * N_PITCHES + 7] = 0.6;
    x[2 * N_PITCHES + 8] = 0.7;
    x[2 * N_PITCHES + 9] = 0.4; // under the threshold
    expect(Array.from(onsetPeaks(x, nbFrames, 0.5))).toEqual([2 * N_PITCHES + 8, 2 * N_PITCHES + 3, 1 * N_PITCHES + 7]);
  });
});
