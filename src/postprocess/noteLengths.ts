/**
 * Step 3: note lengths. Frame-based transcribers end notes early (the decaying piano partials fall
 * under the threshold) and split one held note into fragments; this step repairs both and can
 * extend notes to the next onset (legato) or, on request, through the sustain pedal.
 *
 * Order: merge fragments, then pedal, legato, minimum duration, and last a clamp so that a note
 * never overlaps the next note of the same pitch (MIDI cannot represent that overlap).
 */
import { applyMinimumDuration, nextLaterOnset, nextSamePitchOnset } from '../transcription/durations.js';
import type { Note, PedalSpan } from '../types.js';

export { applyMinimumDuration };

export interface NoteLengthOptions {
  /**
   * Same-pitch notes separated by at most this gap (and not re-struck louder) merge; 0 = off.
   * Off by default: on MAPS with basic-pitch, 20 ms merged real repeated notes and cost 12 points
   * of onset recall (bench/postprocess.ts); useful for models that split held notes.
   */
  mergeGapSec: number;
  /** Notes shorter than this are lengthened to it (without overlapping their pitch's next note). */
  minDurationSec: number;
  /** Extend each note to the next later onset (any pitch) when the gap is at most `legatoMaxGapSec`. */
  legato: boolean;
  legatoMaxGapSec: number;
  /**
   * Hold notes released under the sustain pedal until the pedal is lifted. Off by default: the MIDI
   * file carries the pedal itself (controller 64), so notes keep the lengths the transcriber gave
   * (key releases; a note released under the pedal already held to the next note, see
   * transcription/durations.ts holdUnderPedal). On MAPS, where the truth is key releases, holding
   * them to the pedal's release cost 22 points of onset+offset F1 (32.9 against 55.0). For players
   * that ignore CC 64.
   */
  pedal: boolean;
}

export const DEFAULT_NOTE_LENGTHS: NoteLengthOptions = {
  mergeGapSec: 0,
  minDurationSec: 0.06,
  legato: false,
  legatoMaxGapSec: 1,
  pedal: false,
};

/** Fragments may overlap their predecessor by this much (frame rounding of the transcriber). */
const OVERLAP_TOLERANCE_SEC = 0.01;

const byOnset = (a: Note, b: Note): number => a.onsetSec - b.onsetSec || a.pitchMidi - b.pitchMidi;

/** Groups note indices by pitch, each group sorted by onset. */
function byPitch(notes: readonly Note[]): Map<number, Note[]> {
  const groups = new Map<number, Note[]>();
  for (const n of notes) {
    const g = groups.get(n.pitchMidi);
    if (g) g.push(n);
    else groups.set(n.pitchMidi, [n]);
  }
  for (const g of groups.values()) g.sort(byOnset);
  return groups;
}

/**
 * Merges fragments of one held note: the next note of the same pitch starting within `gapSec`
 * after the previous one's offset (or overlapping it by at most 10 ms) continues it (a re-strike is louder than the tail it follows, so
 * a fragment at least 10 velocity steps louder is kept as a new note).
 */
export function mergeFragments(notes: readonly Note[], gapSec: number): Note[] {
  const out: Note[] = [];
  for (const group of byPitch(notes).values()) {
    let current: Note | undefined;
    for (const n of group) {
      const gap = current ? n.onsetSec - current.offsetSec : Infinity;
      // A note that starts well inside the previous one is a re-strike the model heard, not a fragment.
      if (current && gap <= gapSec && gap >= -OVERLAP_TOLERANCE_SEC && n.velocity < current.velocity + 10) {
        current.offsetSec = Math.max(current.offsetSec, n.offsetSec);
        current.confidence = Math.max(current.confidence, n.confidence);
      } else {
        if (current) out.push(current);
        current = { ...n };
      }
    }
    if (current) out.push(current);
  }
  return out.sort(byOnset);
}

/** Notes whose key is released while the pedal is down sound until the pedal comes up. */
export function applySustainPedal(notes: readonly Note[], pedal: readonly PedalSpan[]): Note[] {
  if (pedal.length === 0) return notes.map((n) => ({ ...n }));
  const spans = [...pedal].sort((a, b) => a.onsetSec - b.onsetSec);
  const next = nextSamePitchOnset(notes);
  return notes.map((n, i) => {
    const span = spans.find((p) => p.onsetSec <= n.offsetSec && n.offsetSec < p.offsetSec);
    if (!span) return { ...n };
    return { ...n, offsetSec: Math.max(n.offsetSec, Math.min(span.offsetSec, next[i])) };
  });
}

/**
 * Extends each note to the next later onset (any pitch, beyond its own chord: nextLaterOnset) if
 * the gap is at most `maxGapSec`.
 */
export function applyLegato(notes: readonly Note[], maxGapSec: number): Note[] {
  const later = nextLaterOnset(notes);
  const next = nextSamePitchOnset(notes);
  return notes.map((n, i) => {
    const target = Math.min(later[i], next[i]);
    if (target > n.offsetSec && target - n.offsetSec <= maxGapSec) return { ...n, offsetSec: target };
    return { ...n };
  });
}

/** Ends each note no later than the next onset of its pitch (keeps at least 1 ms). */
export function clampSamePitchOverlaps(notes: readonly Note[]): Note[] {
  const next = nextSamePitchOnset(notes);
  return notes.map((n, i) => ({ ...n, offsetSec: Math.max(n.onsetSec + 1e-3, Math.min(n.offsetSec, next[i])) }));
}

export function adjustNoteLengths(
  notes: readonly Note[],
  pedal: readonly PedalSpan[] | undefined,
  options: NoteLengthOptions = DEFAULT_NOTE_LENGTHS,
): Note[] {
  let out = options.mergeGapSec > 0 ? mergeFragments(notes, options.mergeGapSec) : [...notes].sort(byOnset);
  if (options.pedal && pedal && pedal.length > 0) out = applySustainPedal(out, pedal);
  if (options.legato) out = applyLegato(out, options.legatoMaxGapSec);
  if (options.minDurationSec > 0) out = applyMinimumDuration(out, options.minDurationSec);
  return clampSamePitchOverlaps(out);
}
