/**
 * Step 2: chord-onset alignment and quantization of onsets to a subdivision of the tracked beats.
 *
 * The grid follows the beat track (not a fixed tempo): the span between two consecutive beats
 * is divided into `subdivisionsPerBeat` equal parts, so quantizing a rubato performance keeps its
 * timing shape. `strength` moves each onset that fraction of the way to its grid point (as a
 * DAW's "quantize strength"); 0 changes nothing, 1 snaps exactly. Notes keep their duration.
 */
import type { Note } from '../types.js';

/** Grid names: note value relative to a quarter-note beat, `t` for triplets. */
export const QUANTIZE_GRIDS = ['1/4', '1/8', '1/16', '1/32', '1/8t', '1/16t', '1/32t'] as const;
export type QuantizeGrid = (typeof QUANTIZE_GRIDS)[number];

export function subdivisionsPerBeat(grid: QuantizeGrid): number {
  const triplet = grid.endsWith('t');
  const denominator = Number(grid.slice(2, triplet ? -1 : undefined));
  const straight = denominator / 4;
  return triplet ? (straight * 3) / 2 : straight;
}

/** The grid points, ascending, covering `fromSec`..`toSec` (beats extrapolated at the ends). */
export function gridPoints(beatsSec: readonly number[], perBeat: number, fromSec: number, toSec: number): number[] {
  if (beatsSec.length < 2) return [];
  const points: number[] = [];
  const firstIbi = beatsSec[1] - beatsSec[0];
  const lastIbi = beatsSec[beatsSec.length - 1] - beatsSec[beatsSec.length - 2];
  // Extrapolated beats before the first and after the last tracked beat.
  const beats: number[] = [];
  for (let t = beatsSec[0] - firstIbi; t > fromSec - firstIbi; t -= firstIbi) beats.unshift(t);
  beats.push(...beatsSec);
  for (let t = beatsSec[beatsSec.length - 1] + lastIbi; t < toSec + lastIbi; t += lastIbi) beats.push(t);
  for (let i = 0; i + 1 < beats.length; i++) {
    const step = (beats[i + 1] - beats[i]) / perBeat;
    for (let k = 0; k < perBeat; k++) points.push(beats[i] + k * step);
  }
  points.push(beats[beats.length - 1]);
  return points;
}

function nearest(points: readonly number[], t: number): number {
  let lo = 0;
  let hi = points.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (points[mid] <= t) lo = mid;
    else hi = mid;
  }
  return Math.abs(points[lo] - t) <= Math.abs(points[hi] - t) ? points[lo] : points[hi];
}

/**
 * Moves every onset `strength` (0..1) of the way to the nearest grid point; duration is kept.
 * With fewer than two beats there is no grid and the notes are returned unchanged.
 */
export function quantizeNotes(notes: readonly Note[], beatsSec: readonly number[], grid: QuantizeGrid, strength: number): Note[] {
  const s = Math.min(1, Math.max(0, strength));
  if (s === 0 || beatsSec.length < 2 || notes.length === 0) return notes.map((n) => ({ ...n }));
  let from = Infinity;
  let to = -Infinity;
  for (const n of notes) {
    from = Math.min(from, n.onsetSec);
    to = Math.max(to, n.onsetSec);
  }
  const points = gridPoints(beatsSec, subdivisionsPerBeat(grid), from, to);
  return notes.map((n) => {
    const target = nearest(points, n.onsetSec);
    const shiftSec = s * (target - n.onsetSec);
    return { ...n, onsetSec: Math.max(0, n.onsetSec + shiftSec), offsetSec: Math.max(0, n.offsetSec + shiftSec) };
  });
}

/**
 * Chord-onset alignment: notes whose onsets lie within `windowSec` of the first onset of a group
 * start together, at the group's velocity-weighted mean onset (a rolled or smeared chord becomes
 * one chord). Offsets stay where they are (never before the new onset).
 */
export function alignChordOnsets(notes: readonly Note[], windowSec: number): Note[] {
  const order = notes.map((_, i) => i).sort((a, b) => notes[a].onsetSec - notes[b].onsetSec);
  const out = notes.map((n) => ({ ...n }));
  let g = 0;
  while (g < order.length) {
    const start = notes[order[g]].onsetSec;
    let end = g + 1;
    while (end < order.length && notes[order[end]].onsetSec - start <= windowSec) end++;
    if (end - g > 1) {
      let sw = 0;
      let st = 0;
      for (let k = g; k < end; k++) {
        const n = notes[order[k]];
        sw += n.velocity;
        st += n.velocity * n.onsetSec;
      }
      const onsetSec = st / sw;
      for (let k = g; k < end; k++) {
        const n = out[order[k]];
        n.onsetSec = onsetSec;
        n.offsetSec = Math.max(n.offsetSec, onsetSec + 0.01);
      }
    }
    g = end;
  }
  return out;
}
