/**
 * Note decoding from basic-pitch posteriorgrams: a linear-time port of upstream's
 * `basic_pitch.note_creation.output_to_notes_polyphonic` (Python, Apache-2.0).
 *
 * Layout: a posteriorgram is a row-major `Float32Array` of [shape=(nb_frames, 88)]; entry
 * `t * 88 + k` is the probability at frame `t` of MIDI pitch `21 + k` (A0..C8).
 *
 * Same algorithm and the same results as upstream's Python (thresholds, peak picking, frame
 * tracking with an energy tolerance, the "melodia trick", minimum note length, note amplitude).
 * Where the Python and JS ports of upstream disagree we follow the Python, which is the reference:
 * onset peaks are `>= onsetThreshold` and never on the first or last frame (scipy `argrelmax`,
 * mode "clip"), and the default minimum note length is 127.7 ms = 11 frames.
 *
 * The difference is cost. Upstream's melodia trick takes the global argmax of the whole
 * remaining-energy matrix once per note it finds, which makes decoding quadratic in the length
 * of the audio (74 s for a 5-minute file in upstream's JS). Here the candidate cells are sorted
 * once by energy; since cells are only ever zeroed, the next unzeroed candidate in that order is
 * exactly the global argmax (ties broken by the smallest flat index, as `np.argmax`). Everything
 * else walks each cell a bounded number of times, so decoding is O(n log n) in the number of
 * frames (the sort) and linear otherwise.
 */

/** MIDI number of pitch index 0. */
export const MIDI_OFFSET = 21;
/** Pitches per frame (piano keys). */
export const N_PITCHES = 88;
const MAX_PITCH_INDEX = N_PITCHES - 1;

export interface NoteDecodeOptions {
  /** Minimum onset posterior for a peak to start a note. Default 0.5. */
  onsetThreshold?: number;
  /** Minimum frame posterior for a note to stay on. Default 0.3. */
  frameThreshold?: number;
  /** Notes must be longer than this many frames (upstream: 127.7 ms -> 11 frames). Default 11. */
  minNoteLengthFrames?: number;
  /** Add onsets where frame posteriors rise sharply. Default true. */
  inferOnsets?: boolean;
  /** Also create notes from leftover frame energy without an onset (melodia trick). Default true. */
  melodiaTrick?: boolean;
  /** Frames below `frameThreshold` tolerated inside a note. Default 11. */
  energyToleranceFrames?: number;
  /** Zero out pitches below this frequency, Hz. */
  minFreqHz?: number;
  /** Zero out pitches at and above this frequency, Hz. */
  maxFreqHz?: number;
  /**
   * How the posteriorgram was assembled from network windows, so that onsets are not inferred
   * from level jumps where windows meet (see `SegmentContext`).
   */
  segments?: SegmentContext;
}

/** Frames looked back on by `inferOnsets` (upstream's `n_diff`). */
export const N_DIFF_FRAMES = 2;

/**
 * basic-pitch normalises its log-CQT per 2-second window, so the posteriors of one held note can
 * step up or down where the kept frames of two windows meet (e.g. when the next window holds
 * silence). Upstream's onset inference turns such a step into an onset, splitting the note at
 * the seam. With this context, frame differences that reach back across a seam use the later
 * window's own estimate of the earlier frames (from its overlap region) instead.
 */
export interface SegmentContext {
  /** Segment `s` covers frames [s * segmentFrames, (s + 1) * segmentFrames). */
  segmentFrames: number;
  /**
   * [shape=(nb_segments, N_DIFF_FRAMES, 88)]: entry `[s][n - 1]` is segment `s`'s window's
   * posterior for frame `s * segmentFrames - n`. Segment 0's rows are not read.
   */
  framesBefore: Float32Array;
}

/** A decoded note in frames: `[startFrame, endFrame)`. */
export interface FrameNote {
  startFrame: number;
  endFrame: number;
  pitchMidi: number;
  /** Mean frame posterior over the note, in [0, 1]. */
  amplitude: number;
}

const hzToMidi = (hz: number): number => 12 * (Math.log2(hz) - Math.log2(440)) + 69;

function checkShape(name: string, x: Float32Array, nbFrames: number): void {
  if (x.length !== nbFrames * N_PITCHES) {
    throw new RangeError(`${name} has ${x.length} values; expected nb_frames * 88 = ${nbFrames * N_PITCHES}.`);
  }
}

/**
 * Zeroes pitches outside [minFreqHz, maxFreqHz) in place, as upstream's `constrain_frequency`.
 * @param onsets [shape=(nb_frames, 88)]
 * @param frames [shape=(nb_frames, 88)]
 */
export function constrainFrequency(onsets: Float32Array, frames: Float32Array, nbFrames: number, minFreqHz?: number, maxFreqHz?: number): void {
  const zero = (from: number, to: number): void => {
    const lo = Math.max(0, from);
    const hi = Math.min(N_PITCHES, to);
    if (lo >= hi) return;
    for (let t = 0; t < nbFrames; t++) {
      onsets.fill(0, t * N_PITCHES + lo, t * N_PITCHES + hi);
      frames.fill(0, t * N_PITCHES + lo, t * N_PITCHES + hi);
    }
  };
  if (maxFreqHz !== undefined) zero(Math.round(hzToMidi(maxFreqHz) - MIDI_OFFSET), N_PITCHES);
  if (minFreqHz !== undefined) zero(0, Math.round(hzToMidi(minFreqHz) - MIDI_OFFSET));
}

/**
 * Onsets plus onsets inferred from rises in the frame posteriors (upstream `get_infered_onsets`):
 * `diff[t] = max(0, min_{n=1..nDiff} frames[t] - frames[t-n])` (zero for t < nDiff), rescaled to
 * the onsets' global maximum, then the elementwise max with the onsets. With `segments`,
 * differences across a window seam use the later window's own earlier frames.
 * @returns a new [shape=(nb_frames, 88)] array (float64, as numpy computes it).
 */
export function inferOnsets(onsets: Float32Array, frames: Float32Array, nbFrames: number, segments?: SegmentContext): Float64Array {
  const nDiff = N_DIFF_FRAMES;
  const diff = new Float64Array(frames.length);
  let diffMax = 0;
  let onsetMax = 0;
  for (let i = 0; i < onsets.length; i++) if (onsets[i] > onsetMax) onsetMax = onsets[i];
  const segLen = segments?.segmentFrames ?? Infinity;
  for (let t = nDiff; t < nbFrames; t++) {
    const seg = Math.floor(t / segLen);
    const segStart = seg * segLen;
    for (let k = 0; k < N_PITCHES; k++) {
      const i = t * N_PITCHES + k;
      let d = Infinity;
      for (let n = 1; n <= nDiff; n++) {
        const before =
          segments && seg > 0 && t - n < segStart
            ? segments.framesBefore[(seg * nDiff + (segStart - (t - n)) - 1) * N_PITCHES + k]
            : frames[i - n * N_PITCHES];
        d = Math.min(d, frames[i] - before);
      }
      if (d > 0) {
        diff[i] = d;
        if (d > diffMax) diffMax = d;
      }
    }
  }
  // float64, as numpy promotes upstream's zero-padded differences.
  const out = Float64Array.from(onsets);
  if (diffMax === 0) return out; // upstream would divide 0/0 here; no rise means nothing to add
  for (let i = 0; i < out.length; i++) {
    const v = (onsetMax * diff[i]) / diffMax;
    if (v > out[i]) out[i] = v;
  }
  return out;
}

/**
 * Onset peaks: cells that are strict local maxima in time (`x[t-1] < x[t] > x[t+1]`, never the
 * first or last frame) with `x[t] >= threshold`.
 * @returns flat indices `t * 88 + k` in upstream's processing order: latest frame first, and
 *   within a frame the highest pitch first.
 */
export function onsetPeaks(onsets: Float32Array | Float64Array, nbFrames: number, threshold: number): Int32Array {
  const peaks: number[] = [];
  for (let t = nbFrames - 2; t >= 1; t--) {
    for (let k = MAX_PITCH_INDEX; k >= 0; k--) {
      const i = t * N_PITCHES + k;
      const v = onsets[i];
      if (v >= threshold && v > onsets[i - N_PITCHES] && v > onsets[i + N_PITCHES]) peaks.push(i);
    }
  }
  return Int32Array.from(peaks);
}

function meanOverFrames(frames: Float32Array, k: number, start: number, end: number): number {
  let sum = 0;
  for (let t = start; t < end; t++) sum += frames[t * N_PITCHES + k];
  return sum / (end - start);
}

/** Zeroes `remaining[t, k-1..k+1]` for t in [start, end). */
function clearBand(remaining: Float32Array, k: number, start: number, end: number): void {
  for (let t = start; t < end; t++) {
    const row = t * N_PITCHES;
    remaining[row + k] = 0;
    if (k < MAX_PITCH_INDEX) remaining[row + k + 1] = 0;
    if (k > 0) remaining[row + k - 1] = 0;
  }
}

/**
 * Decodes note events from frame and onset posteriorgrams (upstream
 * `output_to_notes_polyphonic`). The inputs are not modified.
 * @param frames note-frame posteriors [shape=(nb_frames, 88)]
 * @param onsets onset posteriors [shape=(nb_frames, 88)]
 * @returns notes in frames: first the onset-started notes (latest first), then melodia-trick
 *   notes in order of decreasing peak energy, as upstream.
 */
export function decodeNotes(frames: Float32Array, onsets: Float32Array, nbFrames: number, options: NoteDecodeOptions = {}): FrameNote[] {
  checkShape('frames', frames, nbFrames);
  checkShape('onsets', onsets, nbFrames);
  const onsetThreshold = options.onsetThreshold ?? 0.5;
  const frameThreshold = options.frameThreshold ?? 0.3;
  const minNoteLen = options.minNoteLengthFrames ?? 11;
  const energyTol = options.energyToleranceFrames ?? 11;
  const notes: FrameNote[] = [];
  if (nbFrames === 0) return notes;

  const framesC = Float32Array.from(frames);
  const onsetsC = Float32Array.from(onsets);
  constrainFrequency(onsetsC, framesC, nbFrames, options.minFreqHz, options.maxFreqHz);
  const onsetsUsed = (options.inferOnsets ?? true) ? inferOnsets(onsetsC, framesC, nbFrames, options.segments) : onsetsC;

  const remaining = Float32Array.from(framesC);

  // 1. Notes that start at an onset peak, latest first, each followed until its energy stays
  //    below the frame threshold for `energyTol` frames.
  for (const peak of onsetPeaks(onsetsUsed, nbFrames, onsetThreshold)) {
    const start = Math.floor(peak / N_PITCHES);
    const k = peak - start * N_PITCHES;
    if (start >= nbFrames - 1) continue;
    let i = start + 1;
    let below = 0;
    while (i < nbFrames - 1 && below < energyTol) {
      below = remaining[i * N_PITCHES + k] < frameThreshold ? below + 1 : 0;
      i++;
    }
    i -= below;
    if (i - start <= minNoteLen) continue;
    clearBand(remaining, k, start, i);
    notes.push({ startFrame: start, endFrame: i, pitchMidi: k + MIDI_OFFSET, amplitude: meanOverFrames(framesC, k, start, i) });
  }

  if (!(options.melodiaTrick ?? true)) return notes;

  // 2. Melodia trick: repeatedly take the most energetic remaining cell above the frame threshold
  //    and grow a note from it both ways. Remaining values only ever drop to zero, so visiting
  //    the candidates in one sorted order (value desc, flat index asc) and skipping the zeroed
  //    ones yields exactly upstream's sequence of global argmaxes.
  let count = 0;
  for (let i = 0; i < remaining.length; i++) if (remaining[i] > frameThreshold) count++;
  const candidates = new Uint32Array(count);
  for (let i = 0, c = 0; i < remaining.length; i++) if (remaining[i] > frameThreshold) candidates[c++] = i;
  candidates.sort((a, b) => remaining[b] - remaining[a] || a - b);

  for (const cell of candidates) {
    if (!(remaining[cell] > frameThreshold)) continue; // zeroed by an earlier note
    const mid = Math.floor(cell / N_PITCHES);
    const k = cell - mid * N_PITCHES;
    remaining[cell] = 0;

    let i = mid + 1;
    let below = 0;
    while (i < nbFrames - 1 && below < energyTol) {
      below = remaining[i * N_PITCHES + k] < frameThreshold ? below + 1 : 0;
      clearBand(remaining, k, i, i + 1);
      i++;
    }
    const end = i - 1 - below;

    i = mid - 1;
    below = 0;
    while (i > 0 && below < energyTol) {
      below = remaining[i * N_PITCHES + k] < frameThreshold ? below + 1 : 0;
      clearBand(remaining, k, i, i + 1);
      i--;
    }
    const start = i + 1 + below;

    if (end - start <= minNoteLen) continue;
    notes.push({ startFrame: start, endFrame: end, pitchMidi: k + MIDI_OFFSET, amplitude: meanOverFrames(framesC, k, start, end) });
  }
  return notes;
}
