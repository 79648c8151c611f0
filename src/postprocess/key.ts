/**
 * Step 4: key estimation and the optional out-of-key filter.
 *
 * Krumhansl-Schmuckler key finding: a duration-weighted pitch-class profile of the notes is
 * correlated (Pearson) with a major and a minor key profile rotated to each of the 12 tonics;
 * the best of the 24 is the key. Three published profile pairs are available:
 *
 * - `krumhansl-kessler`: probe-tone ratings, C. L. Krumhansl and E. J. Kessler, Psychological
 *   Review 89(4), 1982 (as used in Krumhansl, "Cognitive Foundations of Musical Pitch", 1990).
 * - `temperley`: D. Temperley, "Music and Probability", MIT Press 2007, profiles counted on the
 *   Kostka-Payne corpus (the values music21 ships as `TemperleyKostkaPayne`).
 * - `albrecht-shanahan`: J. Albrecht and D. Shanahan, "The use of large corpora to train a new
 *   type of key-finding algorithm", Music Perception 31(1), 2013.
 *
 * The default is the one that measured best on ASAP (see bench/postprocess.ts and the report).
 */
import type { KeyEvent, Note } from '../types.js';
import { tonicName, type Mode } from './keyNames.js';

export const KEY_PROFILE_NAMES = ['krumhansl-kessler', 'temperley', 'albrecht-shanahan'] as const;
export type KeyProfileName = (typeof KEY_PROFILE_NAMES)[number];

/** [major, minor] weights for scale degrees 0..11 above the tonic. */
export const KEY_PROFILES: Record<KeyProfileName, readonly [readonly number[], readonly number[]]> = {
  'krumhansl-kessler': [
    [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88],
    [6.33, 2.68, 3.52, 5.38, 2.6, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17],
  ],
  temperley: [
    [0.748, 0.06, 0.488, 0.082, 0.67, 0.46, 0.096, 0.715, 0.104, 0.366, 0.057, 0.4],
    [0.712, 0.084, 0.474, 0.618, 0.049, 0.46, 0.105, 0.747, 0.404, 0.067, 0.133, 0.33],
  ],
  'albrecht-shanahan': [
    [0.238, 0.006, 0.111, 0.006, 0.137, 0.094, 0.016, 0.214, 0.009, 0.08, 0.008, 0.081],
    [0.22, 0.006, 0.104, 0.123, 0.019, 0.103, 0.012, 0.214, 0.062, 0.022, 0.061, 0.052],
  ],
};

export interface KeyEstimate {
  tonicPc: number;
  mode: Mode;
  tonic: string;
  /** Pearson correlation of the winning key. */
  correlation: number;
  /** Correlation margin over the runner-up key (0 = a tie). */
  margin: number;
}

/**
 * Pitch-class profile: each note adds its duration (seconds, capped at `maxNoteSec` so one
 * pedalled bass note cannot dominate) to its pitch class.
 */
export function pitchClassProfile(notes: readonly Note[], maxNoteSec = 2): Float64Array {
  const pcp = new Float64Array(12);
  for (const n of notes) pcp[n.pitchMidi % 12] += Math.min(maxNoteSec, Math.max(0, n.offsetSec - n.onsetSec));
  return pcp;
}

function pearson(x: ArrayLike<number>, y: ArrayLike<number>, rotation: number): number {
  let mx = 0;
  let my = 0;
  for (let i = 0; i < 12; i++) {
    mx += x[(i + rotation) % 12];
    my += y[i];
  }
  mx /= 12;
  my /= 12;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < 12; i++) {
    const dx = x[(i + rotation) % 12] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? 0 : sxy / Math.sqrt(sxx * syy);
}

/** Best of the 24 keys; undefined when there are no notes (no pitch information at all). */
export function estimateKey(notes: readonly Note[], profile: KeyProfileName = 'temperley'): KeyEstimate | undefined {
  const pcp = pitchClassProfile(notes);
  if (pcp.every((v) => v === 0)) return undefined;
  const [major, minor] = KEY_PROFILES[profile];
  const scored: { tonicPc: number; mode: Mode; r: number }[] = [];
  for (let tonicPc = 0; tonicPc < 12; tonicPc++) {
    scored.push({ tonicPc, mode: 'major', r: pearson(pcp, major, tonicPc) });
    scored.push({ tonicPc, mode: 'minor', r: pearson(pcp, minor, tonicPc) });
  }
  scored.sort((a, b) => b.r - a.r);
  const best = scored[0];
  return {
    tonicPc: best.tonicPc,
    mode: best.mode,
    tonic: tonicName(best.tonicPc, best.mode),
    correlation: best.r,
    margin: best.r - scored[1].r,
  };
}

export function keyEvents(estimate: KeyEstimate | undefined): KeyEvent[] {
  return estimate ? [{ timeSec: 0, tonic: estimate.tonic, mode: estimate.mode }] : [];
}

/** Pitch classes of the key's scale: major, or minor with both 6 and 7 raised and natural. */
export function scalePitchClasses(tonicPc: number, mode: Mode): Set<number> {
  const degrees = mode === 'major' ? [0, 2, 4, 5, 7, 9, 11] : [0, 2, 3, 5, 7, 8, 9, 10, 11];
  return new Set(degrees.map((d) => (tonicPc + d) % 12));
}

export interface KeyFilterOptions {
  /** Only notes shorter than this are candidates for removal, seconds. */
  maxDurationSec: number;
  /** Only notes with model confidence below this are candidates for removal. */
  maxConfidence: number;
}

/**
 * basic-pitch never outputs notes under ~0.13 s, so the thresholds sit above that; on MAPS these
 * raise onset precision by 0.3 points at a 0.03-point F1 cost (bench/postprocess.ts).
 */
export const DEFAULT_KEY_FILTER: KeyFilterOptions = { maxDurationSec: 0.2, maxConfidence: 0.4 };

/**
 * Drops notes outside the key's scale that are both short and low-confidence: the stray notes
 * that leaked vocals or strings produce. Chromatic notes the model is sure of, or that are held,
 * stay (chromaticism is part of the music).
 */
export function filterOutOfKey(
  notes: readonly Note[],
  key: { tonicPc: number; mode: Mode },
  options: KeyFilterOptions = DEFAULT_KEY_FILTER,
): Note[] {
  const scale = scalePitchClasses(key.tonicPc, key.mode);
  return notes.filter(
    (n) =>
      scale.has(n.pitchMidi % 12) ||
      n.offsetSec - n.onsetSec >= options.maxDurationSec ||
      n.confidence >= options.maxConfidence,
  );
}
