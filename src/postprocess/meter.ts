/**
 * Step 1b: meter (beats per bar) and downbeats from the notes at the tracked beats.
 *
 * Each beat gets an accent from cues that favour bar starts in Western music: harmonic change
 * (chords change on downbeats, Goto 2001), bass notes, long notes and loud/dense onsets. The meter is
 * the bar length whose lag the accent sequence repeats at most strongly (3 = triple, else duple,
 * written as 4 beats per bar), and the downbeat phase is the one whose beats carry the most accent.
 *
 * References: M. Goto, "An audio-based real-time beat tracking system for music with or without
 * drum-sounds", JNMR 30(2), 2001 (chord changes mark bar lines); F. Gouyon and P. Herrera,
 * "Determination of the meter of musical audio signals", AES 114, 2003 (periodicity of beat-level
 * features at lags 2, 3, 4 to tell duple from triple).
 */
import type { Note } from '../types.js';

export interface MeterEstimate {
  beatsPerBar: number;
  /** Index into the beat list of the first downbeat. */
  firstDownbeatIndex: number;
  downbeatsSec: number[];
}

export interface MeterOptions {
  /** Bar lengths (in beats) to choose from; duple families are written as the largest duple entry. */
  candidates: number[];
}

export const DEFAULT_METER: MeterOptions = { candidates: [3, 4] };

/** Per-beat accent (z-scored sum of cues), [shape=(nb_beats,)]. */
export function beatAccents(notes: readonly Note[], beatsSec: readonly number[]): Float64Array {
  const nb = beatsSec.length;
  const bass = new Float64Array(nb);
  const strength = new Float64Array(nb);
  const length = new Float64Array(nb);
  const chroma: Float64Array[] = [];
  for (let i = 0; i < nb; i++) chroma.push(new Float64Array(12));
  const sorted = [...notes].sort((a, b) => a.onsetSec - b.onsetSec);
  let j = 0;
  for (let i = 0; i < nb; i++) {
    const beat = beatsSec[i];
    const prevIbi = i > 0 ? beat - beatsSec[i - 1] : beatsSec[1] - beat;
    const nextBeat = i + 1 < nb ? beatsSec[i + 1] : beat + prevIbi;
    const tol = Math.min(0.07, 0.25 * prevIbi);
    while (j < sorted.length && sorted[j].onsetSec < beat - tol) j++;
    let minPitch = 128;
    for (let k = j; k < sorted.length && sorted[k].onsetSec < nextBeat - tol; k++) {
      const n = sorted[k];
      const durSec = Math.min(2, n.offsetSec - n.onsetSec);
      chroma[i][n.pitchMidi % 12] += durSec * n.velocity;
      if (n.onsetSec <= beat + tol) {
        strength[i] += n.velocity / 127;
        length[i] = Math.max(length[i], durSec);
        minPitch = Math.min(minPitch, n.pitchMidi);
      }
    }
    bass[i] = minPitch < 128 ? Math.max(0, 72 - minPitch) / 24 : 0;
  }
  const change = new Float64Array(nb);
  for (let i = 1; i < nb; i++) change[i] = 1 - cosine(chroma[i], chroma[i - 1]);
  const a = zscore(bass);
  const b = zscore(strength);
  const c = zscore(length);
  const d = zscore(change);
  const accent = new Float64Array(nb);
  for (let i = 0; i < nb; i++) accent[i] = a[i] + 0.5 * b[i] + c[i] + 1.5 * d[i];
  return accent;
}

function cosine(x: Float64Array, y: Float64Array): number {
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let k = 0; k < x.length; k++) {
    xy += x[k] * y[k];
    xx += x[k] * x[k];
    yy += y[k] * y[k];
  }
  return xx === 0 || yy === 0 ? 0 : xy / Math.sqrt(xx * yy);
}

function zscore(x: Float64Array): Float64Array {
  let m = 0;
  for (const v of x) m += v;
  m /= Math.max(1, x.length);
  let s = 0;
  for (const v of x) s += (v - m) ** 2;
  s = Math.sqrt(s / Math.max(1, x.length));
  const out = new Float64Array(x.length);
  if (s > 0) for (let i = 0; i < x.length; i++) out[i] = (x[i] - m) / s;
  return out;
}

/** Normalised autocorrelation of a zero-mean sequence at `lag`. */
function autocorrelation(x: Float64Array, lag: number): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) den += x[i] * x[i];
  for (let i = lag; i < x.length; i++) num += x[i] * x[i - lag];
  return den === 0 ? 0 : num / den;
}

export function estimateMeter(
  notes: readonly Note[],
  beatsSec: readonly number[],
  options: Partial<MeterOptions> = {},
): MeterEstimate {
  const { candidates } = { ...DEFAULT_METER, ...options };
  if (beatsSec.length < 8) {
    const beatsPerBar = candidates.includes(4) ? 4 : candidates[0];
    return { beatsPerBar, firstDownbeatIndex: 0, downbeatsSec: beatsSec.filter((_, i) => i % beatsPerBar === 0) };
  }
  const accent = beatAccents(notes, beatsSec);
  // Periodicity of the accent at each candidate bar length (and its double, which repeats too).
  let beatsPerBar = candidates[0];
  let bestPeriodicity = -Infinity;
  for (const m of candidates) {
    const p = autocorrelation(accent, m) + 0.5 * autocorrelation(accent, 2 * m);
    if (p > bestPeriodicity + 1e-12) {
      bestPeriodicity = p;
      beatsPerBar = m;
    }
  }
  let firstDownbeatIndex = 0;
  let bestContrast = -Infinity;
  for (let phase = 0; phase < beatsPerBar; phase++) {
    let sum = 0;
    let count = 0;
    for (let i = phase; i < accent.length; i += beatsPerBar) {
      sum += accent[i];
      count++;
    }
    const meanAccent = count > 0 ? sum / count : -Infinity;
    if (meanAccent > bestContrast) {
      bestContrast = meanAccent;
      firstDownbeatIndex = phase;
    }
  }
  const downbeatsSec = beatsSec.filter((_, i) => i >= firstDownbeatIndex && (i - firstDownbeatIndex) % beatsPerBar === 0);
  return { beatsPerBar, firstDownbeatIndex, downbeatsSec };
}
