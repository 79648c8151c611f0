/**
 * Note durations over a decoded note list: pure functions shared by the piano decoders
 * (piano.ts, a decoding setting) and the post-processing's note lengths (postprocess/noteLengths.ts).
 */
import type { Note } from '../types.js';

const byOnset = (a: Note, b: Note): number => a.onsetSec - b.onsetSec || a.pitchMidi - b.pitchMidi;

/** Next onset of the same pitch after each note (Infinity for the last), aligned with `notes`. */
export function nextSamePitchOnset(notes: readonly Note[]): number[] {
  const next = new Array<number>(notes.length).fill(Infinity);
  const order = notes.map((_, i) => i).sort((a, b) => byOnset(notes[a], notes[b]));
  const lastByPitch = new Map<number, number>();
  for (const i of order) {
    const prev = lastByPitch.get(notes[i].pitchMidi);
    if (prev !== undefined) next[prev] = notes[i].onsetSec;
    lastByPitch.set(notes[i].pitchMidi, i);
  }
  return next;
}

/** Lengthens notes shorter than `minSec`, never past the next onset of the same pitch. */
export function applyMinimumDuration(notes: readonly Note[], minSec: number): Note[] {
  const next = nextSamePitchOnset(notes);
  return notes.map((n, i) => {
    if (n.offsetSec - n.onsetSec >= minSec) return { ...n };
    return { ...n, offsetSec: Math.max(n.offsetSec, Math.min(n.onsetSec + minSec, next[i])) };
  });
}
