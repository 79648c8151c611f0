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
  /** Largest distance (seconds) between a tracked beat and the steady grid that replaces it. */
  toleranceSec: number;
  /** Prefer a whole-number BPM for a segment when it also stays within the tolerance. */
  roundBpm: boolean;
}

export const DEFAULT_STEADY_TEMPO: SteadyTempoOptions = { toleranceSec: 0.04, roundBpm: true };

/**
 * Beat times regularised into piecewise-constant tempo: the beats are cut greedily into the longest
 * runs that a straight line (beat time vs beat index) fits within `toleranceSec` at every beat, and
 * each beat is replaced by its place on the line. Runs join continuously (each starts where the
 * previous one's line ends), so the tempo map written from the result has one tempo per run instead
 * of one per beat: a metronomic performance gets one steady tempo, a ritardando a few steps, and
 * free rubato still one tempo per beat. Only the grid moves (by at most the tolerance); notes never.
 */
export function steadyBeats(beatsSec: readonly number[], options: Partial<SteadyTempoOptions> = {}): number[] {
  const { toleranceSec, roundBpm } = { ...DEFAULT_STEADY_TEMPO, ...options };
  const n = beatsSec.length;
  if (n < 3) return [...beatsSec];
  const out = new Array<number>(n);
  const fits = (start: number, end: number, anchor: number, slope: number): boolean => {
    for (let i = start; i <= end; i++) if (Math.abs(anchor + slope * (i - start) - beatsSec[i]) > toleranceSec) return false;
    return true;
  };
  /** Least-squares slope through (start, anchor); for the first run the anchor is fitted too. */
  const fit = (start: number, end: number, anchor: number | undefined): { anchor: number; slope: number } => {
    if (anchor === undefined) {
      const m = end - start + 1;
      let sk = 0;
      let st = 0;
      let skk = 0;
      let skt = 0;
      for (let i = start; i <= end; i++) {
        const k = i - start;
        sk += k;
        st += beatsSec[i];
        skk += k * k;
        skt += k * beatsSec[i];
      }
      const slope = (m * skt - sk * st) / Math.max(1e-12, m * skk - sk * sk);
      return { anchor: (st - slope * sk) / m, slope };
    }
    let num = 0;
    let den = 0;
    for (let i = start + 1; i <= end; i++) {
      const k = i - start;
      num += k * (beatsSec[i] - anchor);
      den += k * k;
    }
    return { anchor, slope: num / den };
  };
  let start = 0;
  let anchor: number | undefined;
  while (start < n - 1) {
    let best = fit(start, start + 1, anchor);
    let end = start + 1;
    for (let e = start + 2; e < n; e++) {
      const cand = fit(start, e, anchor);
      if (cand.slope <= 0 || !fits(start, e, cand.anchor, cand.slope)) break;
      best = cand;
      end = e;
    }
    let { slope } = best;
    if (roundBpm && end - start >= 3) {
      const rounded = 60 / Math.round(60 / slope);
      if (Number.isFinite(rounded) && fits(start, end, best.anchor, rounded)) slope = rounded;
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
