/**
 * Frame-level (multi-pitch) precision/recall/F1 on a fixed time grid (10 ms by default).
 *
 * How notes become frames (documented because every paper does it slightly differently):
 * - Frame k stands for time `k * hopSec`. A note with pitch p is active in frames
 *   `round(onsetSec / hopSec) <= k < round(offsetSec / hopSec)` (nearest grid point, half-open, as
 *   the Onsets-and-Frames evaluation does; ties round half to even like `np.round`); a note
 *   shorter than half a frame may cover none.
 * - Pitches are compared as MIDI semitones rounded to the nearest integer, so two pitches match
 *   when they round to the same semitone (for integer MIDI numbers this equals mir_eval.multipitch's
 *   50-cent tolerance, without its chroma variants).
 * - Overlapping notes of the same pitch count once per frame (a piano roll is binary).
 * - Counts are summed over all frames, then P = TP / est active, R = TP / ref active, as
 *   `mir_eval.multipitch.metrics` sums `true_positives`, `n_est`, `n_ref` over frames.
 *   Accuracy = TP / (TP + FP + FN) (Poliner & Ellis, mir_eval's `Accuracy`).
 * - Empty reference or estimate: the scores are 0, with the same warnings as the note metrics.
 */
import type { Note } from '../types.js';
import { fMeasure } from './transcription.js';

export const FRAME_HOP_SEC = 0.01;

/** `np.round`: nearest integer, ties to even. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

export interface FrameScores {
  precision: number;
  recall: number;
  f1: number;
  accuracy: number;
  /** Active (frame, pitch) cells in the reference / estimate, and matched cells. */
  refActive: number;
  estActive: number;
  truePositives: number;
}

/** Active (frame, pitch) cells of a note list as a set of `frame * 128 + pitch` keys. */
export function notesToFrameSet(notes: readonly Note[], hopSec = FRAME_HOP_SEC): Set<number> {
  const cells = new Set<number>();
  for (const note of notes) {
    const pitch = roundHalfEven(note.pitchMidi);
    if (pitch < 0 || pitch > 127) continue;
    const start = roundHalfEven(note.onsetSec / hopSec);
    const end = roundHalfEven(note.offsetSec / hopSec);
    for (let k = Math.max(0, start); k < end; k++) cells.add(k * 128 + pitch);
  }
  return cells;
}

/**
 * Binary piano roll [shape=(nb_frames, 128)], row-major, 1 where a pitch sounds. Handy for
 * pictures and tests; the metrics use the sparse set form.
 */
export function notesToPianoRoll(notes: readonly Note[], nbFrames: number, hopSec = FRAME_HOP_SEC): Uint8Array {
  const roll = new Uint8Array(nbFrames * 128);
  for (const key of notesToFrameSet(notes, hopSec)) {
    const frame = Math.floor(key / 128);
    if (frame < nbFrames) roll[key] = 1;
  }
  return roll;
}

export function frameMetrics(ref: readonly Note[], est: readonly Note[], hopSec = FRAME_HOP_SEC): FrameScores {
  const refCells = notesToFrameSet(ref, hopSec);
  const estCells = notesToFrameSet(est, hopSec);
  let tp = 0;
  for (const key of estCells) if (refCells.has(key)) tp++;
  const precision = estCells.size === 0 ? 0 : tp / estCells.size;
  const recall = refCells.size === 0 ? 0 : tp / refCells.size;
  const union = refCells.size + estCells.size - tp;
  return {
    precision,
    recall,
    f1: fMeasure(precision, recall),
    accuracy: union === 0 ? 0 : tp / union,
    refActive: refCells.size,
    estActive: estCells.size,
    truePositives: tp,
  };
}
