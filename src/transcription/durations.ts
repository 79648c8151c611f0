/**
 * Note durations over a decoded note list: pure functions shared by the piano decoders
 * (piano.ts, a decoding setting) and the post-processing's note lengths (postprocess/noteLengths.ts).
 */
import type { Note, PedalSpan } from '../types.js';

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

/** Onsets closer than this to a note's own are its chord: they start with it, not after it. */
export const CHORD_WINDOW_SEC = 0.03;

/**
 * For each note, the first onset of any note at least CHORD_WINDOW_SEC after its own (Infinity if
 * none). Why the window: unquantized chord notes start a frame or two apart, and the next chord
 * member is not the next event.
 */
export function nextLaterOnset(notes: readonly Note[]): number[] {
  const onsets = notes.map((n) => n.onsetSec).sort((a, b) => a - b);
  return notes.map((n) => {
    const from = n.onsetSec + CHORD_WINDOW_SEC - 1e-9;
    let lo = 0;
    let hi = onsets.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (onsets[mid] < from) lo = mid + 1;
      else hi = mid;
    }
    return lo < onsets.length ? onsets[lo] : Infinity;
  });
}

/**
 * Notes whose end falls while the sustain pedal is down are held until the next later onset (any
 * pitch, see nextLaterOnset), if that is at most `maxGapSec` after their end, and never past the
 * pedal's release or their key's next note.
 *
 * Why: under the pedal a key release makes no sound, so where such a note "ends" is a convention,
 * not something the audio tells. The decoder's own answer there is the point where the decay fell
 * under a threshold, which is neither what the player did nor what a score says. We hold the note
 * to the next event, as notation (and sequenced MIDI such as MAPS's ground truth) has it: with the
 * pedal in the MIDI file (CC 64) it sounds exactly the same, and a notation program or a player
 * that ignores the pedal gets the legato it heard instead of short notes and rests.
 */
export function holdUnderPedal(notes: readonly Note[], pedal: readonly PedalSpan[], maxGapSec: number): Note[] {
  if (pedal.length === 0 || maxGapSec <= 0) return notes.map((n) => ({ ...n }));
  const spans = [...pedal].sort((a, b) => a.onsetSec - b.onsetSec);
  const later = nextLaterOnset(notes);
  const samePitch = nextSamePitchOnset(notes);
  return notes.map((n, i) => {
    const span = spans.find((p) => p.onsetSec <= n.offsetSec && n.offsetSec < p.offsetSec);
    const target = Math.min(later[i], samePitch[i]);
    if (!span || target <= n.offsetSec || target - n.offsetSec > maxGapSec) return { ...n };
    return { ...n, offsetSec: Math.max(n.offsetSec, Math.min(target, span.offsetSec)) };
  });
}
