/**
 * Step 1c: a tempo map and time signatures that put every tracked beat on a MIDI beat (quarter
 * note) and every tracked downbeat on a bar line, so the notes keep their times in seconds and
 * a DAW or notation program still shows bars that match the music.
 *
 * - A first beat closer to 0 s than a quarter of the first period is moved to 0 s (notes never move).
 * - Before the first beat: a lead-in of `L = round(firstBeat / firstIbi)` beats (at least one when
 *   the first beat is not at 0 s), at the tempo that makes them span exactly 0 .. firstBeat.
 * - One tempo event per beat: 60 / (next beat - this beat) BPM; the last interval continues.
 * - When the first downbeat does not fall a whole number of bars after 0 s, a pickup bar
 *   (anacrusis) of the remaining beats is written as its own short time signature.
 */
import type { TempoEvent, TimeSignatureEvent } from '../types.js';

export const NOMINAL_BPM = 120;

export interface TempoMap {
  tempos: TempoEvent[];
  timeSignatures: TimeSignatureEvent[];
}

export function nominalTempoMap(): TempoMap {
  return {
    tempos: [{ timeSec: 0, bpm: NOMINAL_BPM }],
    timeSignatures: [{ timeSec: 0, numerator: 4, denominator: 4 }],
  };
}

/**
 * @param beatsSec ascending beat times (seconds), at least two, first one >= 0
 * @param beatsPerBar bar length in beats (written as `beatsPerBar`/4)
 * @param firstDownbeatIndex index into `beatsSec` of the first downbeat
 */
export function buildTempoMap(beatsSec: readonly number[], beatsPerBar: number, firstDownbeatIndex: number): TempoMap {
  if (beatsSec.length < 2 || beatsSec[0] < 0) return nominalTempoMap();
  // A first beat within a quarter period of 0 s is taken to be at 0 s: a lead-in beat that short
  // would be an absurd tempo (thousands of BPM) for a few milliseconds.
  if (beatsSec[0] > 0 && beatsSec[0] < 0.25 * (beatsSec[1] - beatsSec[0])) beatsSec = [0, ...beatsSec.slice(1)];
  const firstBeatSec = beatsSec[0];
  const firstIbiSec = beatsSec[1] - beatsSec[0];
  const leadInBeats = firstBeatSec > 0 ? Math.max(1, Math.round(firstBeatSec / firstIbiSec)) : 0;
  const tempos: TempoEvent[] = [];
  if (leadInBeats > 0) tempos.push({ timeSec: 0, bpm: (60 * leadInBeats) / firstBeatSec });
  for (let i = 0; i + 1 < beatsSec.length; i++) {
    tempos.push({ timeSec: beatsSec[i], bpm: 60 / (beatsSec[i + 1] - beatsSec[i]) });
  }

  // Time of MIDI beat k (0 at 0 s): inside the lead-in, or a tracked beat.
  const midiBeatTime = (k: number): number =>
    k < leadInBeats ? (k * firstBeatSec) / leadInBeats : beatsSec[Math.min(beatsSec.length - 1, k - leadInBeats)];
  const firstDownbeatMidiBeat = leadInBeats + Math.max(0, firstDownbeatIndex);
  const pickupBeats = firstDownbeatMidiBeat % beatsPerBar;
  const timeSignatures: TimeSignatureEvent[] = [];
  if (pickupBeats > 0) {
    timeSignatures.push({ timeSec: 0, numerator: pickupBeats, denominator: 4 });
    timeSignatures.push({ timeSec: midiBeatTime(pickupBeats), numerator: beatsPerBar, denominator: 4 });
  } else {
    timeSignatures.push({ timeSec: 0, numerator: beatsPerBar, denominator: 4 });
  }
  return { tempos, timeSignatures };
}

export interface SteadyTempoOptions {
  /** Largest distance (seconds) between a tracked beat and the steady grid for it to count as on it. */
  toleranceSec: number;
  /**
   * Smallest fraction of a segment's beats that must lie within the tolerance; the others are taken
   * as tracking errors (a beat pulled to a syncopated note) and put on the steady grid.
   */
  minInlierFraction: number;
  /** Prefer a whole-number BPM for a segment when it fits as well. */
  roundBpm: boolean;
}

export const DEFAULT_STEADY_TEMPO: SteadyTempoOptions = { toleranceSec: 0.04, minInlierFraction: 0.6, roundBpm: true };

/**
 * Beat times regularised into piecewise-constant tempo: the beats are cut greedily into the longest
 * runs that a straight line (beat time vs beat index) fits, robustly: at least `minInlierFraction`
 * of the run's beats and its last beat within `toleranceSec` of the line (fitted by least squares
 * on those inliers). Each beat is replaced by its place on the line; runs join continuously (each
 * starts where the previous one's line ends), so the tempo map written from the result has one
 * tempo per run instead of one per beat: a metronomic piece gets one steady tempo even when a few
 * tracked beats are off, a tempo change a new segment, free rubato still one tempo per beat. Only
 * the grid changes; notes never move.
 */
export function steadyBeats(beatsSec: readonly number[], options: Partial<SteadyTempoOptions> = {}): number[] {
  const { toleranceSec, minInlierFraction, roundBpm } = { ...DEFAULT_STEADY_TEMPO, ...options };
  const n = beatsSec.length;
  if (n < 3) return [...beatsSec];
  const out = new Array<number>(n);
  const tol = toleranceSec + 1e-9;
  /** Least-squares line over the beats in `use` (k = index - start); the anchor is fixed when given. */
  const lsq = (start: number, end: number, anchor: number | undefined, use: (i: number) => boolean): { anchor: number; slope: number } | undefined => {
    let m = 0;
    let sk = 0;
    let st = 0;
    let skk = 0;
    let skt = 0;
    for (let i = start; i <= end; i++) {
      if (!use(i)) continue;
      const k = i - start;
      const t = beatsSec[i] - (anchor ?? 0);
      m++;
      sk += k;
      st += t;
      skk += k * k;
      skt += k * t;
    }
    if (anchor !== undefined) return skk > 0 ? { anchor, slope: skt / skk } : undefined;
    const den = m * skk - sk * sk;
    if (m < 2 || den <= 0) return undefined;
    const slope = (m * skt - sk * st) / den;
    return { anchor: (st - slope * sk) / m, slope };
  };
  const inlier = (line: { anchor: number; slope: number }, start: number, i: number): boolean =>
    Math.abs(line.anchor + line.slope * (i - start) - beatsSec[i]) <= tol;
  /** Robust fit: least squares, then again on the beats within the tolerance (twice). */
  const robustFit = (start: number, end: number, anchor: number | undefined): { anchor: number; slope: number } | undefined => {
    let line = lsq(start, end, anchor, () => true);
    for (let iter = 0; iter < 2 && line; iter++) {
      const current = line;
      line = lsq(start, end, anchor, (i) => inlier(current, start, i)) ?? current;
    }
    return line;
  };
  const accepts = (line: { anchor: number; slope: number } | undefined, start: number, end: number): boolean => {
    if (!line || line.slope <= 0 || !inlier(line, start, end)) return false;
    let count = 0;
    for (let i = start; i <= end; i++) if (inlier(line, start, i)) count++;
    return count >= minInlierFraction * (end - start + 1);
  };
  let start = 0;
  let anchor: number | undefined;
  while (start < n - 1) {
    let end = start + 1;
    let best = lsq(start, end, anchor, () => true) ?? { anchor: beatsSec[start], slope: beatsSec[end] - beatsSec[start] };
    // Extend as far as a line still fits; a few failing beats in a row are looked past (outliers).
    for (let e = start + 2; e < n && e - end <= 3; e++) {
      const cand = robustFit(start, e, anchor);
      if (cand && accepts(cand, start, e)) {
        best = cand;
        end = e;
      }
    }
    let { slope } = best;
    if (roundBpm && end - start >= 3) {
      const rounded = { anchor: best.anchor, slope: 60 / Math.round(60 / slope) };
      if (Number.isFinite(rounded.slope) && accepts(rounded, start, end)) slope = rounded.slope;
    }
    for (let i = start; i <= end; i++) out[i] = best.anchor + slope * (i - start);
    anchor = out[end];
    start = end;
  }
  // A first grid beat fitted slightly below 0 s is clamped (the tempo map starts at 0 s).
  if (out[0] < 0) out[0] = 0;
  for (let i = 1; i < n; i++) if (out[i] <= out[i - 1]) out[i] = out[i - 1] + 1e-3;
  return out;
}

/** Drops tempo events that repeat the previous tempo (relative difference under 1e-6). */
export function mergeRepeatedTempos(map: TempoMap): TempoMap {
  const tempos: TempoEvent[] = [];
  for (const t of map.tempos) {
    const prev = tempos[tempos.length - 1];
    if (prev && Math.abs(t.bpm / prev.bpm - 1) < 1e-6) continue;
    tempos.push(t);
  }
  return { tempos, timeSignatures: map.timeSignatures };
}
