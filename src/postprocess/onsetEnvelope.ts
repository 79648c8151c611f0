/**
 * Onset-strength envelope computed from a note list instead of from audio.
 *
 * Each note onset contributes a weight that grows with its velocity; notes that start together (a
 * chord) add up, so strong, full chords stand out the way they do in an audio onset envelope. A
 * small Gaussian spreads each onset over neighbouring frames because performed chords are rolled
 * by 10-30 ms and because the beat tracker's frames are coarser than note times.
 *
 * References: D. P. W. Ellis, "Beat Tracking by Dynamic Programming", JNMR 36(1), 2007 (the
 * tracker that consumes this envelope); S. Dixon, "Automatic extraction of tempo and beat from
 * expressive performances", JNMR 30(1), 2001 (salience of symbolic onsets from velocity).
 */
import type { Note } from '../types.js';

export interface OnsetEnvelopeOptions {
  /** Frames per second of the envelope. */
  frameRateHz: number;
  /** Standard deviation of the Gaussian spread of each onset, in seconds. */
  spreadSec: number;
  /** Extra salience per second of note duration (capped at 1 s): long notes mark beats. */
  durationWeight: number;
  /** Extra salience for low notes (1 at MIDI 36 and below, 0 from MIDI 72): bass marks beats. */
  bassWeight: number;
  /** `log1p`-compress the summed weight of simultaneous notes. */
  compress: boolean;
}

export const DEFAULT_ONSET_ENVELOPE: OnsetEnvelopeOptions = {
  frameRateHz: 100,
  spreadSec: 0.02,
  durationWeight: 2,
  bassWeight: 2,
  compress: false,
};

/** Salience of one note onset: velocity matters, but soft notes still count. */
export function onsetWeight(note: Note, options: OnsetEnvelopeOptions = DEFAULT_ONSET_ENVELOPE): number {
  const durSec = Math.min(1, Math.max(0, note.offsetSec - note.onsetSec));
  const lowness = Math.min(1, Math.max(0, (72 - note.pitchMidi) / 36));
  return (0.4 + note.velocity / 127) * (1 + options.durationWeight * durSec) * (1 + options.bassWeight * lowness);
}

/**
 * [shape=(nb_frames,)] onset strength at `frameRateHz`, covering 0 .. last onset + 1 s.
 * The result is compressed (`log1p`) so a ten-note chord is louder than one note but not ten times.
 */
export function onsetEnvelope(notes: readonly Note[], options: Partial<OnsetEnvelopeOptions> = {}): Float32Array {
  const opts = { ...DEFAULT_ONSET_ENVELOPE, ...options };
  const { frameRateHz, spreadSec } = opts;
  let lastOnsetSec = 0;
  for (const n of notes) lastOnsetSec = Math.max(lastOnsetSec, n.onsetSec);
  const nbFrames = Math.ceil((lastOnsetSec + 1) * frameRateHz) + 1;
  const impulses = new Float32Array(nbFrames);
  for (const n of notes) {
    const frame = Math.round(Math.max(0, n.onsetSec) * frameRateHz);
    impulses[frame] += onsetWeight(n, opts);
  }
  if (opts.compress) for (let i = 0; i < nbFrames; i++) impulses[i] = Math.log1p(impulses[i]);
  return gaussianSmooth(impulses, spreadSec * frameRateHz);
}

/** Convolves with a normalised-peak Gaussian of `sigmaFrames` (peak height kept, not area). */
export function gaussianSmooth(x: Float32Array, sigmaFrames: number): Float32Array {
  if (sigmaFrames <= 0) return x.slice();
  const radius = Math.ceil(3 * sigmaFrames);
  const kernel = new Float32Array(2 * radius + 1);
  for (let k = -radius; k <= radius; k++) kernel[k + radius] = Math.exp(-0.5 * (k / sigmaFrames) ** 2);
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v === 0) continue;
    const lo = Math.max(0, i - radius);
    const hi = Math.min(x.length - 1, i + radius);
    for (let j = lo; j <= hi; j++) y[j] += v * kernel[j - i + radius];
  }
  return y;
}
