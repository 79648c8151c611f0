/**
 * Evaluation measures for the post-processing stage: beat F-measure, tempo accuracy and the MIREX
 * weighted key score. Pure functions, used by the benchmark and checked by unit tests.
 */

/**
 * Beat F-measure as `mir_eval.beat.f_measure` computes it: estimated and reference beats match
 * one-to-one when within `windowSec` (default 70 ms); precision = matches / nb_estimated,
 * recall = matches / nb_reference. Either list empty gives 0 (as mir_eval). mir_eval's
 * `evaluate()` also drops beats before 5 s (`trim_beats`); `f_measure` itself does not, and
 * neither does this function. Matching: mir_eval uses a maximum bipartite matching
 * (`util.match_events`); for points on a line with one symmetric window a greedy two-pointer
 * scan gives a maximum matching as well, so the counts agree.
 */
export function beatFMeasure(referenceSec: readonly number[], estimatedSec: readonly number[], windowSec = 0.07): number {
  if (referenceSec.length === 0 || estimatedSec.length === 0) return 0;
  const matches = countMatches(referenceSec, estimatedSec, windowSec);
  const precision = matches / estimatedSec.length;
  const recall = matches / referenceSec.length;
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}

/** Size of a maximum one-to-one matching of events within `windowSec` (inclusive). */
export function countMatches(a: readonly number[], b: readonly number[], windowSec: number): number {
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  // mir_eval compares |ref - est| <= window after rounding is not applied; a tiny epsilon keeps
  // float noise from turning an exact-window pair into a miss.
  const w = windowSec + 1e-9;
  let i = 0;
  let j = 0;
  let matches = 0;
  while (i < x.length && j < y.length) {
    if (y[j] < x[i] - w) j++;
    else if (x[i] < y[j] - w) i++;
    else {
      matches++;
      i++;
      j++;
    }
  }
  return matches;
}

/** Median inter-beat interval as BPM (0 when fewer than two beats). */
export function medianTempoBpm(beatsSec: readonly number[]): number {
  if (beatsSec.length < 2) return 0;
  const ibis = [];
  for (let i = 1; i < beatsSec.length; i++) ibis.push(beatsSec[i] - beatsSec[i - 1]);
  ibis.sort((a, b) => a - b);
  const m = ibis.length >> 1;
  const median = ibis.length % 2 ? ibis[m] : 0.5 * (ibis[m - 1] + ibis[m]);
  return 60 / median;
}

/**
 * MIREX tempo accuracy: ACC1 is within `tolerance` (4 %) of the reference; ACC2 also accepts
 * the estimate at 2x, 3x, 1/2 or 1/3 of the reference (octave/metrical-level errors).
 */
export function tempoAccuracy(referenceBpm: number, estimatedBpm: number, tolerance = 0.04): { acc1: boolean; acc2: boolean } {
  const close = (factor: number) => Math.abs(estimatedBpm - factor * referenceBpm) <= tolerance * factor * referenceBpm;
  const acc1 = close(1);
  return { acc1, acc2: acc1 || close(2) || close(3) || close(1 / 2) || close(1 / 3) };
}

export interface KeyLabel {
  /** Pitch class of the tonic, 0 = C. */
  tonicPc: number;
  mode: 'major' | 'minor';
}

/**
 * MIREX key score, as `mir_eval.key.weighted_score`: 1 same key, 0.5 estimate a perfect fifth
 * above the reference in the same mode (below too only with `allowDescendingFifths`, as
 * mir_eval's option of that name), 0.3 relative major/minor, 0.2 parallel major/minor, else 0.
 */
export function mirexKeyScore(reference: KeyLabel, estimated: KeyLabel, allowDescendingFifths = false): number {
  const r = reference.tonicPc;
  const e = estimated.tonicPc;
  if (reference.mode === estimated.mode) {
    if (r === e) return 1;
    const up = (e - r + 12) % 12;
    if (up === 7 || (allowDescendingFifths && up === 5)) return 0.5;
    return 0;
  }
  if (r === e) return 0.2;
  // Relative: the minor key's tonic is three semitones below the major key's.
  if (reference.mode === 'major' && (r - e + 12) % 12 === 3) return 0.3;
  if (reference.mode === 'minor' && (e - r + 12) % 12 === 3) return 0.3;
  return 0;
}
