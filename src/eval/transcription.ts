/**
 * Note-level transcription metrics, ported from `mir_eval.transcription` and
 * `mir_eval.transcription_velocity` (https://github.com/craffel/mir_eval, MIT).
 *
 * Conventions (as mir_eval): a note is an interval `[onsetSec, offsetSec)` plus a pitch in Hz.
 * An estimated note matches a reference note when
 *   1. |onset difference| <= 50 ms (rounded to 4 decimals first, see `roundHalfEven4`),
 *   2. |pitch difference| <= 50 cents,
 *   3. (with offsets) |offset difference| <= max(0.2 * reference duration, 50 ms),
 *   4. (with velocity) the globally rescaled velocity is within 0.1 of the reference's.
 * Pairs come from the same maximum bipartite matching as mir_eval (`matching.ts`), so precision,
 * recall, F1 and the average overlap ratio equal mir_eval's.
 *
 * Empty reference or estimate is defined behaviour: every score is 0 and a warning is returned
 * ("Reference notes are empty."), exactly as mir_eval warns and returns zeros.
 */
import type { Note } from '../types.js';
import { EvalInputError } from './errors.js';
import { matchFromHits } from './matching.js';

/** Notes as parallel arrays (mir_eval's `intervals` and `pitches`). Pitches in Hz. */
export interface NoteArrays {
  readonly onsetsSec: Float64Array;
  readonly offsetsSec: Float64Array;
  readonly pitchesHz: Float64Array;
  /** MIDI velocities (0..127); only the velocity metrics read them. */
  readonly velocities: Float64Array;
}

export interface MatchOptions {
  /** Onset tolerance, seconds (> 0). Default 0.05 (50 ms). */
  onsetToleranceSec?: number;
  /** Pitch tolerance, cents (> 0). Default 50 (a quarter tone). */
  pitchToleranceCents?: number;
  /**
   * Offset tolerance as a fraction of the reference duration; `null` ignores offsets.
   * Default 0.2.
   */
  offsetRatio?: number | null;
  /** Lower bound of the offset tolerance, seconds. Default 0.05. */
  offsetMinToleranceSec?: number;
  /** Use `<` instead of `<=` in every threshold check. Default false. */
  strict?: boolean;
  /** Velocity tolerance after normalisation to [0, 1] (velocity metrics only). Default 0.1. */
  velocityTolerance?: number;
  /** F-measure weight. Default 1. */
  beta?: number;
}

export interface PrfScores {
  precision: number;
  recall: number;
  f1: number;
}

export interface PrfoScores extends PrfScores {
  averageOverlapRatio: number;
}

/** Maximum allowed note time; beyond it the times are almost certainly not seconds. */
export const MAX_TIME_SEC = 30000;

/** Decimals kept in onset/offset distances (mir_eval's `N_DECIMALS`). */
const N_DECIMALS_SCALE = 1e4;

export const midiToHz = (pitchMidi: number): number => 440 * 2 ** ((pitchMidi - 69) / 12);

/** Converts `Note[]` into parallel arrays (pitch MIDI -> Hz), preserving order. */
export function notesToArrays(notes: readonly Note[]): NoteArrays {
  const n = notes.length;
  const arrays = {
    onsetsSec: new Float64Array(n),
    offsetsSec: new Float64Array(n),
    pitchesHz: new Float64Array(n),
    velocities: new Float64Array(n),
  };
  notes.forEach((note, i) => {
    arrays.onsetsSec[i] = note.onsetSec;
    arrays.offsetsSec[i] = note.offsetSec;
    arrays.pitchesHz[i] = midiToHz(note.pitchMidi);
    arrays.velocities[i] = note.velocity;
  });
  return arrays;
}

/**
 * `np.around(x, 4)` for x >= 0: scale, round half to even (`np.rint`), unscale. Rounding the
 * distances keeps a distance of exactly 50 ms from failing a `<= 0.05` check through float error.
 */
export function roundHalfEven4(x: number): number {
  const scaled = x * N_DECIMALS_SCALE;
  const floor = Math.floor(scaled);
  const frac = scaled - floor;
  let r: number;
  if (frac > 0.5) r = floor + 1;
  else if (frac < 0.5) r = floor;
  else r = floor % 2 === 0 ? floor : floor + 1;
  return r / N_DECIMALS_SCALE;
}

/** `mir_eval.util.f_measure`. */
export function fMeasure(precision: number, recall: number, beta = 1): number {
  if (precision === 0 && recall === 0) return 0;
  return ((1 + beta ** 2) * precision * recall) / (beta ** 2 * precision + recall);
}

function validateIntervals(onsetsSec: Float64Array, offsetsSec: Float64Array, who: string): void {
  if (onsetsSec.length !== offsetsSec.length) {
    throw new EvalInputError(
      `${who} intervals should be n-by-2, but got ${onsetsSec.length} onsets and ${offsetsSec.length} offsets.`,
    );
  }
  for (let i = 0; i < onsetsSec.length; i++) {
    const on = onsetsSec[i];
    const off = offsetsSec[i];
    if (!Number.isFinite(on) || !Number.isFinite(off)) {
      throw new EvalInputError(`${who} note ${i} has a non-finite time (onset ${on}, offset ${off}).`);
    }
    if (on < 0 || off < 0) throw new EvalInputError(`Negative interval times found (${who.toLowerCase()} note ${i}).`);
    if (off <= on) {
      throw new EvalInputError(
        `All interval durations must be strictly positive (${who.toLowerCase()} note ${i}: onset ${on} s, offset ${off} s).`,
      );
    }
    if (off > MAX_TIME_SEC) {
      throw new EvalInputError(
        `A ${who.toLowerCase()} note time of ${off} was found which is greater than the maximum allowable time of ` +
          `${MAX_TIME_SEC} (did you supply times in seconds?)`,
      );
    }
  }
}

/**
 * `mir_eval.transcription.validate`: interval shape/sign/duration checks, matching lengths and
 * positive pitches. Returns mir_eval's warnings for empty inputs.
 */
export function validateNotes(ref: NoteArrays, est: NoteArrays): string[] {
  const warnings: string[] = [];
  if (ref.onsetsSec.length === 0) warnings.push('Reference notes are empty.');
  if (est.onsetsSec.length === 0) warnings.push('Estimated notes are empty.');
  validateIntervals(ref.onsetsSec, ref.offsetsSec, 'Reference');
  validateIntervals(est.onsetsSec, est.offsetsSec, 'Estimated');
  if (ref.pitchesHz.length !== ref.onsetsSec.length) throw new EvalInputError('Reference intervals and pitches have different lengths.');
  if (est.pitchesHz.length !== est.onsetsSec.length) throw new EvalInputError('Estimated intervals and pitches have different lengths.');
  for (const p of ref.pitchesHz) {
    if (!(p > 0)) throw new EvalInputError('Reference contains at least one non-positive pitch value');
  }
  for (const p of est.pitchesHz) {
    if (!(p > 0)) throw new EvalInputError('Estimate contains at least one non-positive pitch value');
  }
  return warnings;
}

function lessOrEqual(strict: boolean): (a: number, b: number) => boolean {
  return strict ? (a, b) => a < b : (a, b) => a <= b;
}

/** Offset tolerance of each reference note: max(ratio * duration, minimum). */
function offsetTolerances(ref: NoteArrays, ratio: number, minSec: number): Float64Array {
  const tol = new Float64Array(ref.onsetsSec.length);
  for (let i = 0; i < tol.length; i++) tol[i] = Math.max(ratio * (ref.offsetsSec[i] - ref.onsetsSec[i]), minSec);
  return tol;
}

/**
 * `mir_eval.transcription.match_notes`: pairs `[refIndex, estIndex]` (sorted by reference index)
 * that agree in onset, pitch and (unless `offsetRatio === null`) offset.
 */
export function matchNotes(ref: NoteArrays, est: NoteArrays, options: MatchOptions = {}): Array<[number, number]> {
  const onsetTol = options.onsetToleranceSec ?? 0.05;
  const pitchTol = options.pitchToleranceCents ?? 50;
  const offsetRatio = options.offsetRatio === undefined ? 0.2 : options.offsetRatio;
  const cmp = lessOrEqual(options.strict ?? false);
  const offTol = offsetRatio === null ? null : offsetTolerances(ref, offsetRatio, options.offsetMinToleranceSec ?? 0.05);
  const refLog2 = Array.from(ref.pitchesHz, Math.log2);
  const estLog2 = Array.from(est.pitchesHz, Math.log2);
  return matchFromHits(ref.onsetsSec.length, est.onsetsSec.length, (i, j) => {
    if (!cmp(roundHalfEven4(Math.abs(ref.onsetsSec[i] - est.onsetsSec[j])), onsetTol)) return false;
    if (!cmp(Math.abs(1200 * (refLog2[i] - estLog2[j])), pitchTol)) return false;
    if (offTol !== null && !cmp(roundHalfEven4(Math.abs(ref.offsetsSec[i] - est.offsetsSec[j])), offTol[i])) return false;
    return true;
  });
}

/** `mir_eval.transcription.match_note_onsets`: onsets only, pitch ignored. */
export function matchNoteOnsets(ref: NoteArrays, est: NoteArrays, options: MatchOptions = {}): Array<[number, number]> {
  const onsetTol = options.onsetToleranceSec ?? 0.05;
  const cmp = lessOrEqual(options.strict ?? false);
  return matchFromHits(ref.onsetsSec.length, est.onsetsSec.length, (i, j) =>
    cmp(roundHalfEven4(Math.abs(ref.onsetsSec[i] - est.onsetsSec[j])), onsetTol),
  );
}

/** `mir_eval.transcription.match_note_offsets`: offsets only, pitch ignored. */
export function matchNoteOffsets(ref: NoteArrays, est: NoteArrays, options: MatchOptions = {}): Array<[number, number]> {
  const offTol = offsetTolerances(ref, options.offsetRatio ?? 0.2, options.offsetMinToleranceSec ?? 0.05);
  const cmp = lessOrEqual(options.strict ?? false);
  return matchFromHits(ref.onsetsSec.length, est.onsetsSec.length, (i, j) =>
    cmp(roundHalfEven4(Math.abs(ref.offsetsSec[i] - est.offsetsSec[j])), offTol[i]),
  );
}

/** `mir_eval.transcription.average_overlap_ratio` over the matched pairs (0 when none). */
export function averageOverlapRatio(ref: NoteArrays, est: NoteArrays, matching: ReadonlyArray<readonly [number, number]>): number {
  if (matching.length === 0) return 0;
  let sum = 0;
  for (const [i, j] of matching) {
    const overlap = Math.min(ref.offsetsSec[i], est.offsetsSec[j]) - Math.max(ref.onsetsSec[i], est.onsetsSec[j]);
    const span = Math.max(ref.offsetsSec[i], est.offsetsSec[j]) - Math.min(ref.onsetsSec[i], est.onsetsSec[j]);
    sum += overlap / span;
  }
  return sum / matching.length;
}

function prfFromCount(nMatched: number, nRef: number, nEst: number, beta: number): PrfScores {
  const precision = nMatched / nEst;
  const recall = nMatched / nRef;
  return { precision, recall, f1: fMeasure(precision, recall, beta) };
}

const ZERO_PRFO: PrfoScores = { precision: 0, recall: 0, f1: 0, averageOverlapRatio: 0 };

/** `mir_eval.transcription.precision_recall_f1_overlap` (onset + pitch [+ offset]). */
export function precisionRecallF1Overlap(ref: NoteArrays, est: NoteArrays, options: MatchOptions = {}): PrfoScores {
  validateNotes(ref, est);
  if (ref.pitchesHz.length === 0 || est.pitchesHz.length === 0) return { ...ZERO_PRFO };
  const matching = matchNotes(ref, est, options);
  return {
    ...prfFromCount(matching.length, ref.pitchesHz.length, est.pitchesHz.length, options.beta ?? 1),
    averageOverlapRatio: averageOverlapRatio(ref, est, matching),
  };
}

/** `mir_eval.transcription.onset_precision_recall_f1` (onsets only, any pitch). */
export function onsetPrecisionRecallF1(ref: NoteArrays, est: NoteArrays, options: MatchOptions = {}): PrfScores {
  validateNotes(ref, est);
  if (ref.onsetsSec.length === 0 || est.onsetsSec.length === 0) return { precision: 0, recall: 0, f1: 0 };
  const matching = matchNoteOnsets(ref, est, options);
  return prfFromCount(matching.length, ref.onsetsSec.length, est.onsetsSec.length, options.beta ?? 1);
}

/** `mir_eval.transcription.offset_precision_recall_f1` (offsets only, any pitch). */
export function offsetPrecisionRecallF1(ref: NoteArrays, est: NoteArrays, options: MatchOptions = {}): PrfScores {
  validateNotes(ref, est);
  if (ref.onsetsSec.length === 0 || est.onsetsSec.length === 0) return { precision: 0, recall: 0, f1: 0 };
  const matching = matchNoteOffsets(ref, est, options);
  return prfFromCount(matching.length, ref.onsetsSec.length, est.onsetsSec.length, options.beta ?? 1);
}

function validateVelocities(ref: NoteArrays, est: NoteArrays): void {
  if (ref.velocities.length !== ref.pitchesHz.length) {
    throw new EvalInputError('Reference velocities must have the same length as pitches and intervals.');
  }
  if (est.velocities.length !== est.pitchesHz.length) {
    throw new EvalInputError('Estimated velocities must have the same length as pitches and intervals.');
  }
  for (const v of ref.velocities) if (v < 0) throw new EvalInputError('Reference velocities must be positive.');
  for (const v of est.velocities) if (v < 0) throw new EvalInputError('Estimated velocities must be positive.');
}

/**
 * `mir_eval.transcription_velocity.match_notes`: the usual matching, then reference velocities
 * are scaled to [0, 1], estimated velocities get the least-squares affine map onto them (over the
 * matched pairs), and pairs whose velocity error is >= `velocityTolerance` are dropped.
 */
export function matchNotesWithVelocity(ref: NoteArrays, est: NoteArrays, options: MatchOptions = {}): Array<[number, number]> {
  const matching = matchNotes(ref, est, options);
  if (matching.length === 0) return [];
  const tolerance = options.velocityTolerance ?? 0.1;
  let minV = Infinity;
  let maxV = -Infinity;
  for (const v of ref.velocities) {
    minV = Math.min(minV, v);
    maxV = Math.max(maxV, v);
  }
  // Smallest possible range 1 avoids dividing by zero (as mir_eval).
  const range = Math.max(1, maxV - minV);
  const x = matching.map(([, j]) => est.velocities[j]);
  const y = matching.map(([i]) => (ref.velocities[i] - minV) / range);
  const predicted = affineLeastSquares(x, y);
  return matching.filter((_, k) => Math.abs(predicted[k] - y[k]) < tolerance);
}

/**
 * Fitted values of the least-squares line y ~ slope*x + intercept (`np.linalg.lstsq` on
 * `[x, 1]`). When all x are equal the system is rank deficient; lstsq's minimum-norm solution
 * then predicts mean(y) everywhere, which is what this returns too.
 */
function affineLeastSquares(x: readonly number[], y: readonly number[]): number[] {
  const n = x.length;
  const meanX = x.reduce((a, b) => a + b, 0) / n;
  const meanY = y.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let k = 0; k < n; k++) {
    sxx += (x[k] - meanX) ** 2;
    sxy += (x[k] - meanX) * (y[k] - meanY);
  }
  // Relative rank test, like lstsq's rcond on the singular values of [x, 1].
  const scale = x.reduce((a, b) => a + b * b, 0) + n;
  if (sxx <= 1e-12 * scale) return x.map(() => meanY);
  const slope = sxy / sxx;
  const intercept = meanY - slope * meanX;
  return x.map((v) => slope * v + intercept);
}

/** `mir_eval.transcription_velocity.precision_recall_f1_overlap`. */
export function precisionRecallF1OverlapVelocity(ref: NoteArrays, est: NoteArrays, options: MatchOptions = {}): PrfoScores {
  validateNotes(ref, est);
  validateVelocities(ref, est);
  if (ref.pitchesHz.length === 0 || est.pitchesHz.length === 0) return { ...ZERO_PRFO };
  const matching = matchNotesWithVelocity(ref, est, options);
  return {
    ...prfFromCount(matching.length, ref.pitchesHz.length, est.pitchesHz.length, options.beta ?? 1),
    averageOverlapRatio: averageOverlapRatio(ref, est, matching),
  };
}

/** Everything `mir_eval.transcription.evaluate` computes, plus the velocity-aware scores. */
export interface NoteMetrics {
  /** Onset + pitch + offset (mir_eval `Precision`, `Recall`, `F-measure`, `Average_Overlap_Ratio`). */
  withOffset: PrfoScores;
  /** Onset + pitch (mir_eval `*_no_offset`). */
  onsetOnly: PrfoScores;
  /** Onsets alone, any pitch (mir_eval `Onset_*`). */
  onsetAnyPitch: PrfScores;
  /** Offsets alone, any pitch (mir_eval `Offset_*`). */
  offsetAnyPitch: PrfScores;
  /** Onset + pitch + offset + velocity (`transcription_velocity`). */
  withOffsetVelocity: PrfoScores;
  /** Onset + pitch + velocity. */
  onsetVelocity: PrfoScores;
  /** mir_eval's warnings (empty reference / estimate). */
  warnings: string[];
}

export function evaluateNoteArrays(ref: NoteArrays, est: NoteArrays, options: MatchOptions = {}): NoteMetrics {
  const warnings = validateNotes(ref, est);
  const noOffset = { ...options, offsetRatio: null };
  const withOffset = { ...options, offsetRatio: options.offsetRatio ?? 0.2 };
  return {
    withOffset: precisionRecallF1Overlap(ref, est, withOffset),
    onsetOnly: precisionRecallF1Overlap(ref, est, noOffset),
    onsetAnyPitch: onsetPrecisionRecallF1(ref, est, options),
    offsetAnyPitch: offsetPrecisionRecallF1(ref, est, withOffset),
    withOffsetVelocity: precisionRecallF1OverlapVelocity(ref, est, withOffset),
    onsetVelocity: precisionRecallF1OverlapVelocity(ref, est, noOffset),
    warnings,
  };
}

/** Note metrics of `Note[]` lists (pitches in MIDI numbers, converted to Hz as mir_eval expects). */
export function evaluateNotes(ref: readonly Note[], est: readonly Note[], options: MatchOptions = {}): NoteMetrics {
  return evaluateNoteArrays(notesToArrays(ref), notesToArrays(est), options);
}
