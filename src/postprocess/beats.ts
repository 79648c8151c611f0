/**
 * Step 1a: beat tracking from the note list by dynamic programming (Ellis 2007), with a
 * time-varying target period from `tempo.ts` instead of Ellis's single global tempo, so that
 * expressive performances (rubato, ritardando) are followed.
 *
 * C(t) = O(t) + max_{tau in [t - 2P(t), t - P(t)/2]} ( C(tau) - alpha * log((t - tau) / P(t))^2 )
 *
 * O is the onset envelope (scaled to unit standard deviation), P(t) the local period, alpha the
 * "tightness". A chain may start anywhere (the max also includes 0), and the best chain ending
 * within one period of the last onset is traced back.
 *
 * Reference: D. P. W. Ellis, "Beat Tracking by Dynamic Programming", JNMR 36(1):51-60, 2007.
 */
import type { Note } from '../types.js';
import { DEFAULT_ONSET_ENVELOPE, onsetEnvelope, type OnsetEnvelopeOptions } from './onsetEnvelope.js';
import { DEFAULT_TEMPO_CURVE, envelopePeaks, estimateTempoCurve, periodAt, type TempoCurve, type TempoCurveOptions } from './tempo.js';

export interface BeatTrackerOptions {
  envelope: OnsetEnvelopeOptions;
  tempo: TempoCurveOptions;
  /** Ellis's alpha: how strongly beat spacing is held to the local period. */
  tightness: number;
  /** After the DP, move each beat to the strongest onset within this many seconds (0 = off). */
  snapToOnsetSec: number;
}

export const DEFAULT_BEAT_TRACKER: BeatTrackerOptions = {
  envelope: DEFAULT_ONSET_ENVELOPE,
  tempo: DEFAULT_TEMPO_CURVE,
  tightness: 20,
  snapToOnsetSec: 0.04,
};

/** Beat times in seconds, ascending. Fewer than two distinct onsets give no beats. */
export function trackBeats(notes: readonly Note[], options: Partial<BeatTrackerOptions> = {}): number[] {
  const opts: BeatTrackerOptions = { ...DEFAULT_BEAT_TRACKER, ...options };
  if (notes.length < 2) return [];
  return trackBeatsOnEnvelope(onsetEnvelope(notes, opts.envelope), opts.envelope.frameRateHz, notes, opts);
}

/**
 * The same dynamic programme over any onset-strength envelope at `fps` (e.g. a beat network's
 * activation); `notes` are only used to snap beats to onsets. `curve` replaces the tempo curve
 * induced from the envelope (e.g. one from a network's tempo head).
 */
export function trackBeatsOnEnvelope(env: Float32Array, fps: number, notes: readonly Note[], options: Partial<BeatTrackerOptions> = {}, curve?: TempoCurve): number[] {
  const opts: BeatTrackerOptions = { ...DEFAULT_BEAT_TRACKER, ...options };
  const events = envelopePeaks(env, fps);
  if (events.length < 2) return [];
  const durationSec = env.length / fps;
  curve ??= estimateTempoCurve(events, durationSec, opts.tempo);

  // Scale to unit standard deviation so that alpha means the same for loud and quiet pieces.
  let sum = 0;
  let sumSq = 0;
  for (const v of env) {
    sum += v;
    sumSq += v * v;
  }
  const mean = sum / env.length;
  const std = Math.sqrt(Math.max(1e-12, sumSq / env.length - mean * mean));
  const onset = new Float64Array(env.length);
  for (let i = 0; i < env.length; i++) onset[i] = env[i] / std;

  const nbFrames = onset.length;
  const cumScore = new Float64Array(nbFrames);
  const backlink = new Int32Array(nbFrames).fill(-1);
  for (let t = 0; t < nbFrames; t++) {
    const periodFrames = periodAt(curve, t / fps) * fps;
    const lo = Math.max(0, Math.round(t - 2 * periodFrames));
    const hi = Math.round(t - periodFrames / 2);
    let best = 0;
    let arg = -1;
    for (let tau = lo; tau <= hi; tau++) {
      const ratio = Math.log((t - tau) / periodFrames);
      const v = cumScore[tau] - opts.tightness * ratio * ratio;
      if (v > best) {
        best = v;
        arg = tau;
      }
    }
    cumScore[t] = onset[t] + best;
    backlink[t] = arg;
  }

  // End: best cumulative score within one period of the last onset.
  const lastEvent = events[events.length - 1].timeSec;
  const endFrame = Math.min(nbFrames - 1, Math.round(lastEvent * fps));
  const startSearch = Math.max(0, Math.round(endFrame - periodAt(curve, lastEvent) * fps));
  let t = endFrame;
  for (let f = startSearch; f <= endFrame; f++) if (cumScore[f] > cumScore[t]) t = f;
  const beatFrames: number[] = [];
  while (t >= 0) {
    beatFrames.push(t);
    t = backlink[t];
  }
  beatFrames.reverse();
  let beatsSec = beatFrames.map((f) => f / fps);
  if (opts.snapToOnsetSec > 0) beatsSec = snapBeatsToOnsets(beatsSec, notes, opts.snapToOnsetSec);
  return beatsSec;
}

/**
 * Moves each beat to the velocity-weighted mean onset of the notes within `windowSec` of it
 * (the frame grid and the envelope smoothing blur beats by 10-20 ms). Order is preserved.
 */
export function snapBeatsToOnsets(beatsSec: readonly number[], notes: readonly Note[], windowSec: number): number[] {
  const onsets = notes.map((n) => n.onsetSec).sort((a, b) => a - b);
  const weights = [...notes].sort((a, b) => a.onsetSec - b.onsetSec).map((n) => n.velocity);
  const out: number[] = [];
  let j = 0;
  for (const beat of beatsSec) {
    while (j < onsets.length && onsets[j] < beat - windowSec) j++;
    let sw = 0;
    let st = 0;
    for (let k = j; k < onsets.length && onsets[k] <= beat + windowSec; k++) {
      sw += weights[k];
      st += weights[k] * onsets[k];
    }
    out.push(sw > 0 ? st / sw : beat);
  }
  for (let i = 1; i < out.length; i++) if (out[i] <= out[i - 1]) out[i] = out[i - 1] + 1e-3;
  return out;
}
