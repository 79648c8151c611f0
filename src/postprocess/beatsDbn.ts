/**
 * Tempo-consistent decoding of a beat activation: the bar-pointer-free "beat DBN" of Krebs, Böck
 * and Widmer (ISMIR 2015) as madmom's DBNBeatTrackingProcessor implements it, and a small HMM over
 * bar positions for the downbeats and the meter given the beats (as madmom's DBNBarTracking).
 *
 * Beat HMM: a state is (beat interval i in frames, position p in 0..i-1 since the last beat). The
 * position advances one frame per frame; at the end of an interval the next interval j is chosen
 * with probability proportional to exp(-lambda * |j / i - 1|), so the tempo drifts but never jumps
 * an octave. States in the first 1/observationLambda of an interval are "beat" states and observe
 * the activation a, the others (1 - a) / (observationLambda - 1). Viterbi over the whole piece;
 * each state keeps only a ring buffer per tempo (the position shift is free) and a backpointer per
 * tempo and frame (the only non-deterministic move), so memory is frames x tempi bytes, and time
 * is frames x (tempo transitions + beat positions).
 *
 * References: F. Krebs, S. Böck, G. Widmer, "An efficient state-space model for joint tempo and
 * meter tracking", ISMIR 2015; S. Böck, F. Krebs, G. Widmer, "Joint beat and downbeat tracking with
 * recurrent neural networks", ISMIR 2016; madmom (BSD) for the parameter choices.
 */
import type { BeatActivations, TempoPosterior } from './beatModel.js';
import type { MeterEstimate } from './meter.js';
import { viterbiPath, type TempoCurve } from './tempo.js';

export interface BeatDbnOptions {
  minBpm: number;
  maxBpm: number;
  /** Tempo states (log-spaced intervals; duplicates after rounding are dropped). */
  numTempi: number;
  /** Tempo-change stiffness: larger keeps the tempo steadier. */
  transitionLambda: number;
  /** Fraction 1/observationLambda of each interval counts as "at the beat". */
  observationLambda: number;
  /**
   * Log-cost paid at every beat (0 = madmom's model). A positive cost makes every extra beat need
   * that much evidence, which stops weak off-beat activation from doubling the tempo.
   */
  beatCost: number;
  /** Log-Gaussian tempo prior applied at every beat: centre (BPM) and width (octaves; 0 = off). */
  priorBpm: number;
  priorWidthOctaves: number;
  /**
   * The network was trained with positive frames weighted by this factor, which inflates its
   * outputs; activations are mapped back to probabilities, p = a / (w - (w - 1) a) (1 = as given).
   */
  positiveWeight: number;
  /**
   * Weight of the network's per-frame tempo posterior (when the model has a tempo head), added as
   * weight * log q(tempo) whenever a beat interval is chosen (0 = off). It tells the decoder the
   * notated metrical level, which the beat activation alone leaves ambiguous (2x / 0.5x).
   */
  tempoPriorWeight: number;
  /** Exponent applied to the beat activation before decoding (sharpens: weak off-beats fade). */
  activationPower: number;
}

export const DEFAULT_BEAT_DBN: BeatDbnOptions = {
  minBpm: 30,
  maxBpm: 300,
  numTempi: 100,
  transitionLambda: 100,
  observationLambda: 16,
  beatCost: 0,
  priorBpm: 100,
  priorWidthOctaves: 0,
  positiveWeight: 1,
  tempoPriorWeight: 0,
  activationPower: 1,
};

/** Distinct beat intervals (frames) between the tempo limits, log-spaced. */
export function tempoIntervals(fps: number, options: BeatDbnOptions): number[] {
  const minI = Math.max(1, Math.floor((60 * fps) / options.maxBpm));
  const maxI = Math.ceil((60 * fps) / options.minBpm);
  const set = new Set<number>();
  for (let k = 0; k < options.numTempi; k++) {
    const v = Math.round(minI * (maxI / minI) ** (k / Math.max(1, options.numTempi - 1)));
    set.add(v);
  }
  return [...set].sort((a, b) => a - b);
}

/** Beat frames decoded from `activation` (one value per frame, 0..1). */
export function dbnBeatFrames(activation: Float32Array, fps: number, options: Partial<BeatDbnOptions> = {}, tempo?: TempoPosterior): number[] {
  const opts = { ...DEFAULT_BEAT_DBN, ...options };
  const T = activation.length;
  if (T < 2) return [];
  const w = opts.positiveWeight;
  if (w !== 1) activation = activation.map((a) => a / (w - (w - 1) * a));
  if (opts.activationPower !== 1) activation = activation.map((a) => a ** opts.activationPower);
  const intervals = tempoIntervals(fps, opts);
  const N = intervals.length;
  const tempoPrior = tempo && opts.tempoPriorWeight > 0 ? tempoPriorLookup(tempo, intervals, fps, T) : undefined;
  const priorRow = new Float64Array(N);
  // Transition log-probabilities between tempi (row: from, col: to), normalised per row; tiny ones cut.
  const trans: { to: number; from: number; logP: number }[][] = Array.from({ length: N }, () => []);
  for (let i = 0; i < N; i++) {
    const weights: number[] = [];
    let sum = 0;
    for (let j = 0; j < N; j++) {
      const v = Math.exp(-opts.transitionLambda * Math.abs(intervals[j] / intervals[i] - 1));
      weights.push(v);
      sum += v;
    }
    for (let j = 0; j < N; j++) {
      const p = weights[j] / sum;
      const bpm = (60 * fps) / intervals[j];
      const prior = opts.priorWidthOctaves > 0 ? -0.5 * (Math.log2(bpm / opts.priorBpm) / opts.priorWidthOctaves) ** 2 : 0;
      if (p > 1e-12) trans[j].push({ to: j, from: i, logP: Math.log(p) - opts.beatCost + prior });
    }
  }
  // Ring buffers: value of position p of tempo i at frame t lives at index (p - t) mod I.
  const delta: Float64Array[] = intervals.map((I) => new Float64Array(I));
  const beatPositions = intervals.map((I) => Math.max(1, Math.floor(I / opts.observationLambda)));
  const back = new Uint8Array(T * N);
  const lastPos = new Float64Array(N);
  const logBeat = (a: number): number => Math.log(Math.min(1 - 1e-6, Math.max(1e-6, a)));
  const logNonBeat = (a: number): number => Math.log(Math.min(1 - 1e-6, Math.max(1e-6, 1 - a)) / (opts.observationLambda - 1));
  const mod = (a: number, m: number): number => ((a % m) + m) % m;
  // Frame 0: uniform prior over all states, then observation.
  for (let i = 0; i < N; i++) {
    const I = intervals[i];
    for (let p = 0; p < I; p++) {
      delta[i][p] = (p < beatPositions[i] ? logBeat(activation[0]) : logNonBeat(activation[0])) - Math.log(I * N);
    }
  }
  for (let t = 1; t < T; t++) {
    // The last position of every tempo (read before its slot becomes position 0 of frame t).
    for (let i = 0; i < N; i++) lastPos[i] = delta[i][mod(intervals[i] - 1 - (t - 1), intervals[i])];
    const a = activation[t];
    const lb = logBeat(a);
    const ln = logNonBeat(a);
    if (tempoPrior) tempoPrior(t, opts.tempoPriorWeight, priorRow);
    for (let j = 0; j < N; j++) {
      let best = -Infinity;
      let arg = j;
      for (const tr of trans[j]) {
        const v = lastPos[tr.from] + tr.logP;
        if (v > best) {
          best = v;
          arg = tr.from;
        }
      }
      const I = intervals[j];
      const buf = delta[j];
      buf[mod(-t, I)] = best + priorRow[j];
      back[t * N + j] = arg;
      // Observation: beat positions get log(a), the rest log((1 - a) / (lambda - 1)); adding the
      // latter to every state changes no argmax, so only beat positions get the difference.
      const nb = beatPositions[j];
      const base = mod(-t, I);
      for (let p = 0; p < nb; p++) buf[(base + p) % I] += lb - ln;
    }
  }
  // Best final state, then trace back.
  let bi = 0;
  let bp = 0;
  let bestV = -Infinity;
  for (let i = 0; i < N; i++) {
    const I = intervals[i];
    for (let p = 0; p < I; p++) {
      const v = delta[i][mod(p - (T - 1), I)];
      if (v > bestV) {
        bestV = v;
        bi = i;
        bp = p;
      }
    }
  }
  const frames: number[] = [];
  let i = bi;
  let p = bp;
  for (let t = T - 1; t >= 0; t--) {
    if (p === 0) frames.push(t);
    if (t === 0) break;
    if (p > 0) p--;
    else {
      i = back[t * N + i];
      p = intervals[i] - 1;
    }
  }
  return frames.reverse();
}

/**
 * Fills `out[j]` with weight * (interval j in seconds) * log q_t(interval j), q_t the tempo
 * posterior at frame t interpolated linearly in log-BPM between class centres (clamped at the ends,
 * floored at 1e-4). Scaling by the interval makes the prior cost the same per second at every tempo
 * (per beat, it would favour slow tempi, which pay it less often).
 */
function tempoPriorLookup(tempo: TempoPosterior, intervals: readonly number[], fps: number, T: number): (t: number, weight: number, out: Float64Array) => void {
  const K = tempo.bpm.length;
  const frames = Math.floor(tempo.probs.length / K);
  const logBpm = Array.from(tempo.bpm, (b) => Math.log(b));
  const lo = new Int32Array(intervals.length);
  const frac = new Float64Array(intervals.length);
  intervals.forEach((I, j) => {
    const x = Math.log((60 * fps) / I);
    let k = 0;
    while (k + 2 < K && logBpm[k + 1] <= x) k++;
    lo[j] = k;
    frac[j] = Math.min(1, Math.max(0, (x - logBpm[k]) / (logBpm[k + 1] - logBpm[k])));
  });
  return (t, weight, out) => {
    const row = Math.min(frames - 1, Math.max(0, Math.min(t, T - 1))) * K;
    for (let j = 0; j < intervals.length; j++) {
      const q = tempo.probs[row + lo[j]] * (1 - frac[j]) + tempo.probs[row + lo[j] + 1] * frac[j];
      out[j] = ((weight * intervals[j]) / fps) * Math.log(Math.max(1e-4, q));
    }
  };
}

/**
 * Beat times (seconds) from activations: DBN frames, each refined to the activation peak within
 * +-2 frames (parabolic interpolation), limited to the span of the notes.
 */
export function decodeBeats(act: BeatActivations, firstOnsetSec: number, lastOnsetSec: number, options: Partial<BeatDbnOptions> = {}): number[] {
  const { fps, beat } = act;
  const frames = dbnBeatFrames(beat, fps, options, act.tempo);
  const out: number[] = [];
  for (const f of frames) {
    let m = f;
    for (let k = Math.max(0, f - 2); k <= Math.min(beat.length - 1, f + 2); k++) if (beat[k] > beat[m]) m = k;
    let offset = 0;
    if (m > 0 && m + 1 < beat.length) {
      const y0 = beat[m - 1];
      const y1 = beat[m];
      const y2 = beat[m + 1];
      const den = y0 - 2 * y1 + y2;
      if (den < 0) offset = Math.max(-0.5, Math.min(0.5, (0.5 * (y0 - y2)) / den));
    }
    const t = (m + offset) / fps;
    if (t < firstOnsetSec - 0.1 || t > lastOnsetSec + 0.1) continue;
    if (out.length > 0 && t <= out[out.length - 1] + 1e-3) continue;
    out.push(t);
  }
  return out;
}

export interface DownbeatOptions {
  /** Bar lengths in beats to choose from. */
  candidates: number[];
  /**
   * Probability of switching bar length at a bar line, for the downbeats. A high value lets the
   * bar restart after a dropped or inserted beat (tracked beats are often off by one here and there).
   */
  meterChangeProb: number;
  /** The same for the single meter reported for the piece (kept low: one time signature). */
  meterChoiceChangeProb: number;
}

/** meterChangeProb 0.35 chosen on the validation pieces (downbeat F 29.5 -> 37.6 over 1e-4). */
export const DEFAULT_DOWNBEATS: DownbeatOptions = { candidates: [2, 3, 4], meterChangeProb: 0.35, meterChoiceChangeProb: 1e-4 };

/** Viterbi path over (bar length m, position in bar), the position advancing one per beat. */
function barPath(d: readonly number[], candidates: readonly number[], meterChangeProb: number): { m: number; pos: number }[] {
  const nb = d.length;
  const states: { m: number; pos: number }[] = [];
  for (const m of candidates) for (let pos = 0; pos < m; pos++) states.push({ m, pos });
  const S = states.length;
  const obs = (k: number, s: number): number => (states[s].pos === 0 ? Math.log(d[k]) : Math.log(1 - d[k]));
  let score = new Float64Array(S);
  for (let s = 0; s < S; s++) score[s] = obs(0, s) - Math.log(S);
  const back: Int32Array[] = [new Int32Array(S)];
  const stay = Math.log(1 - meterChangeProb);
  const change = Math.log(meterChangeProb / Math.max(1, candidates.length - 1));
  for (let k = 1; k < nb; k++) {
    const next = new Float64Array(S).fill(-Infinity);
    const bp = new Int32Array(S);
    for (let s = 0; s < S; s++) {
      const { m, pos } = states[s];
      if (pos + 1 < m) {
        const to = s + 1; // same meter, next position
        const v = score[s];
        if (v > next[to]) {
          next[to] = v;
          bp[to] = s;
        }
      } else {
        for (let s2 = 0; s2 < S; s2++) {
          if (states[s2].pos !== 0) continue;
          const v = score[s] + (states[s2].m === m ? stay : change);
          if (v > next[s2]) {
            next[s2] = v;
            bp[s2] = s;
          }
        }
      }
    }
    for (let s = 0; s < S; s++) next[s] += obs(k, s);
    back.push(bp);
    score = next;
  }
  let s = 0;
  for (let q = 1; q < S; q++) if (score[q] > score[s]) s = q;
  const path: { m: number; pos: number }[] = new Array(nb);
  for (let k = nb - 1; k >= 0; k--) {
    path[k] = states[s];
    s = back[k][s];
  }
  return path;
}

/**
 * Meter and downbeats from the downbeat activation sampled at the beats: Viterbi over (bar length m,
 * position in bar). The downbeats come from a path that may change bar length at any bar line
 * (`meterChangeProb`); the one meter for the tempo map is the most frequent bar length along a
 * nearly fixed-meter path (`meterChoiceChangeProb`).
 */
export function decodeDownbeats(act: BeatActivations, beatsSec: readonly number[], options: Partial<DownbeatOptions> = {}): MeterEstimate {
  const { candidates, meterChangeProb, meterChoiceChangeProb } = { ...DEFAULT_DOWNBEATS, ...options };
  const nb = beatsSec.length;
  if (nb === 0) return { beatsPerBar: 4, firstDownbeatIndex: 0, downbeatsSec: [] };
  const d = beatsSec.map((t) => {
    const f = Math.round(t * act.fps);
    let v = 0;
    for (let k = Math.max(0, f - 2); k <= Math.min(act.downbeat.length - 1, f + 2); k++) v = Math.max(v, act.downbeat[k]);
    return Math.min(1 - 1e-4, Math.max(1e-4, v));
  });
  const path = barPath(d, candidates, meterChangeProb);
  const downbeatsSec: number[] = [];
  let firstDownbeatIndex = -1;
  for (let k = 0; k < nb; k++) {
    if (path[k].pos === 0) {
      downbeatsSec.push(beatsSec[k]);
      if (firstDownbeatIndex < 0) firstDownbeatIndex = k;
    }
  }
  const meterPath = meterChoiceChangeProb === meterChangeProb ? path : barPath(d, candidates, meterChoiceChangeProb);
  const barCounts = new Map<number, number>();
  for (const st of meterPath) if (st.pos === 0) barCounts.set(st.m, (barCounts.get(st.m) ?? 0) + 1);
  let beatsPerBar = candidates[0];
  let most = -1;
  for (const [m, c] of barCounts) if (c > most) [beatsPerBar, most] = [m, c];
  return { beatsPerBar, firstDownbeatIndex: Math.max(0, firstDownbeatIndex), downbeatsSec };
}

/**
 * A smooth tempo curve from the tempo posterior: Viterbi over the tempo classes at `hopSec` steps,
 * observing the mean log-probability of each class over the hop, paying `changeCostPerOctave2` per
 * squared octave of change between steps (so the curve follows ritardandi but not octave flips).
 */
export function tempoCurveFromPosterior(tempo: TempoPosterior, fps: number, hopSec = 0.5, changeCostPerOctave2 = 40): TempoCurve {
  const K = tempo.bpm.length;
  const frames = Math.floor(tempo.probs.length / K);
  const hop = Math.max(1, Math.round(hopSec * fps));
  const W = Math.max(1, Math.ceil(frames / hop));
  const octaves = Array.from(tempo.bpm, (b) => Math.log2(b));
  const obs: Float64Array[] = [];
  for (let w = 0; w < W; w++) {
    const row = new Float64Array(K);
    const end = Math.min(frames, (w + 1) * hop);
    for (let f = w * hop; f < end; f++) for (let k = 0; k < K; k++) row[k] += Math.log(Math.max(1e-6, tempo.probs[f * K + k]));
    for (let k = 0; k < K; k++) row[k] /= Math.max(1, end - w * hop);
    obs.push(row);
  }
  const path = viterbiPath(W, K, (w, k) => obs[w][k], (c, k) => changeCostPerOctave2 * (octaves[c] - octaves[k]) ** 2);
  const timeSec = Float64Array.from(path, (_, w) => (w * hop + hop / 2) / fps);
  const periodSec = Float64Array.from(path, (k) => 60 / tempo.bpm[k]);
  return { timeSec, periodSec };
}
