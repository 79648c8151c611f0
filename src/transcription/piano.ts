/**
 * stemscribe's own piano transcriber: an Onsets-and-Frames-style network trained by `training/`
 * on rendered piano audio, run through onnxruntime-node.
 *
 * audio -> mono 16 kHz -> log-mel (reproduced here exactly as training/features.py computes it) ->
 * ONNX posteriors (onset, offset, frame, velocity per key and 20 ms frame), in chunks with context
 * on both sides so memory stays bounded for long files -> notes (decodeNotes, the same algorithm
 * as training/decode.py).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { z } from 'zod';
import { downmixToMono } from '../audio/channels.js';
import { resampleAudio } from '../audio/resample.js';
import { ModelError, StemscribeError } from '../errors.js';
import { modelPath } from '../models/paths.js';
import type { AudioData, AudioSource, ModelInfo, Note, PedalSpan, TranscribeOptions, Transcriber, Transcription } from '../types.js';
import { fftInPlace, fftPlan, type FftPlan } from '../dsp/fft.js';
import { applyMinimumDuration, holdUnderPedal } from './durations.js';

const STAGE = 'transcribe';

/** Note-decoding settings (`decodeNotes`), as the manifest stores them for this model and for the ensemble. */
const DecodeThresholdsSchema = z.object({
  onset: z.number(),
  frame: z.number(),
  offset: z.number(),
  /** Frames over which the release's fall is measured (see releaseEndFrame); 0 or absent: off. */
  releaseFallFrames: z.number().int().nonnegative().optional(),
  /**
   * Minimum mean frame posterior over `supportFrames` frames from an onset's peak for it to start a
   * note (see noteSupport); 0 or absent: off.
   */
  support: z.number().min(0).max(1).optional(),
  /** Frames averaged for `support` (default 4). */
  supportFrames: z.number().int().positive().optional(),
  /**
   * Notes with an onset confidence below this may be dropped as harmonic ghosts (see
   * dropHarmonicGhosts); 0 or absent: off.
   */
  ghostConfidence: z.number().min(0).max(1).optional(),
  /** A ghost's neighbour must be more confident than it by more than 1 / ghostRatio (default 1). */
  ghostRatio: z.number().positive().max(1).optional(),
  /**
   * Notes shorter than this are lengthened to it, never past the key's next note (durations.ts
   * applyMinimumDuration); 0 or absent: off. Why: the frame posterior of a short, soft note
   * falls before its key comes up.
   */
  minDurationSec: z.number().nonnegative().optional(),
  /**
   * Notes released under the decoded sustain pedal are held to the next onset at most this far
   * after their end (durations.ts holdUnderPedal; needs the pedal posterior); 0 or absent: off.
   * Why: there the key release is silent, and a score's note lengths serve better than a guess.
   */
  pedalHoldSec: z.number().nonnegative().optional(),
});
export type DecodeThresholds = z.infer<typeof DecodeThresholdsSchema>;

/** How the piano-ensemble fuses the two models' posteriors before decoding (./ensemble.ts). */
const FusionSchema = z.object({
  onsetWeight: z.number().min(0).max(1),
  frameWeight: z.number().min(0).max(1),
  /**
   * An onset head in the model folder (training/onset_head.py) that gives the onset posterior from
   * both models' posteriors; when set, `onsetWeight` is unused (the head takes the mean inside).
   */
  onsetHead: z.string().optional(),
  thresholds: DecodeThresholdsSchema,
});

const ManifestSchema = z.object({
  name: z.string(),
  version: z.string(),
  license: z.string(),
  file: z.string(),
  features: z.object({
    sampleRateHz: z.number().int().positive(),
    hopSamples: z.number().int().positive(),
    fftSize: z.number().int().positive(),
    melBins: z.number().int().positive(),
    fMinHz: z.number().nonnegative(),
    fMaxHz: z.number().positive(),
    logFloor: z.number().positive(),
    window: z.literal('hann-periodic'),
    center: z.literal('zero-pad'),
    magnitude: z.literal('abs'),
    melScale: z.literal('slaney'),
    melNorm: z.literal('slaney'),
  }),
  input: z.string(),
  // `pedal` (one sustain-pedal posterior per frame) came with the key-release model (0.2); older
  // models lack it and their notes already include the pedal's sound.
  outputs: z.object({ onset: z.string(), offset: z.string(), frame: z.string(), velocity: z.string(), pedal: z.string().optional() }),
  minPitchMidi: z.number().int(),
  keys: z.number().int().positive(),
  chunkFrames: z.number().int().positive(),
  contextFrames: z.number().int().nonnegative(),
  // Decoding settings for a separated stem (the product's path, and the default); `solo` overrides
  // them for a recording of the piano alone. training/export.py chooses each on its own tuning set.
  thresholds: DecodeThresholdsSchema.extend({ pedal: z.number().optional() }),
  solo: z.object({ thresholds: DecodeThresholdsSchema }).optional(),
  // How the piano-ensemble transcriber fuses this model with basic-pitch (./ensemble.ts), for a
  // separated stem and (optionally) a solo recording. Absent in models exported before it.
  // `mixWeights`: per separator, the weight of the unseparated mix's fused posteriors averaged
  // into a separated stem's (./ensemble.ts `blendWithMix`; training/mix-weight.ts chooses them).
  // `mixHeads`: per separator, a mix head (an onset head over the stem's and the mix's posteriors,
  // training/onset_head.py --separated) whose onset posterior replaces the blend's, decoded with
  // its own onset threshold (training/mix-weight.ts keeps it only where it beats the blend).
  ensemble: FusionSchema.extend({
    with: z.literal('basic-pitch'),
    solo: FusionSchema.optional(),
    mixWeights: z.record(z.string(), z.number().min(0).max(1)).optional(),
    mixHeads: z.record(z.string(), z.object({ file: z.string(), onset: z.number().min(0).max(1) })).optional(),
  }).optional(),
});
export type PianoManifest = z.infer<typeof ManifestSchema>;
export type MelFrontEnd = PianoManifest['features'];
export type Fusion = z.infer<typeof FusionSchema>;

/** This model's decoding settings for the audio it hears (the `solo` profile where the manifest has one). */
export function decodingFor(manifest: PianoManifest, source: AudioSource = 'separated'): DecodeThresholds {
  return source === 'solo' && manifest.solo ? manifest.solo.thresholds : manifest.thresholds;
}

/** The ensemble's fusion weights and decoding settings for the audio it hears. */
export function fusionFor(ensemble: NonNullable<PianoManifest['ensemble']>, source: AudioSource = 'separated'): Fusion {
  return source === 'solo' && ensemble.solo ? ensemble.solo : ensemble;
}

export function loadPianoManifest(dir: string): PianoManifest {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) throw new ModelError(`Piano model manifest not found at ${path}; reinstall stemscribe or set STEMSCRIBE_MODELS_DIR.`, STAGE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ModelError(`Piano model manifest ${path} is not valid JSON.`, STAGE, { cause: e });
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) throw new ModelError(`Piano model manifest ${path} does not match the expected format: ${parsed.error.message}`, STAGE);
  return parsed.data;
}

// ------------------------------------------------------------------------------------------ features

/** Number of centred frames for `nSamples` samples (torch.stft with center=True). */
export function frameCount(nSamples: number, hopSamples: number): number {
  return Math.floor(nSamples / hopSamples) + 1;
}

function hzToMel(f: number): number {
  return f >= 1000 ? 15 + Math.log(f / 1000) / (Math.log(6.4) / 27) : f / (200 / 3);
}

function melToHz(m: number): number {
  return m >= 15 ? 1000 * Math.exp((Math.log(6.4) / 27) * (m - 15)) : m * (200 / 3);
}

/** Slaney mel filterbank with Slaney area normalisation (librosa's default), stored sparsely. */
export interface MelFilterbank {
  /** First FFT bin of each band. */
  readonly firstBin: Int32Array;
  /** Weights of each band from `firstBin` on. */
  readonly weights: readonly Float32Array[];
}

export function melFilterbank(fe: MelFrontEnd): MelFilterbank {
  const nBins = fe.fftSize / 2 + 1;
  const fMax = Math.min(fe.fMaxHz, fe.sampleRateHz / 2);
  const mMin = hzToMel(fe.fMinHz);
  const mMax = hzToMel(fMax);
  const pts = new Float64Array(fe.melBins + 2);
  for (let i = 0; i < pts.length; i++) pts[i] = melToHz(mMin + ((mMax - mMin) * i) / (fe.melBins + 1));
  const firstBin = new Int32Array(fe.melBins);
  const weights: Float32Array[] = [];
  for (let m = 0; m < fe.melBins; m++) {
    const row: number[] = [];
    let first = -1;
    const norm = 2 / (pts[m + 2] - pts[m]);
    for (let k = 0; k < nBins; k++) {
      const f = (k * fe.sampleRateHz) / fe.fftSize;
      const lower = (f - pts[m]) / (pts[m + 1] - pts[m]);
      const upper = (pts[m + 2] - f) / (pts[m + 2] - pts[m + 1]);
      const w = Math.max(0, Math.min(lower, upper)) * norm;
      if (w > 0) {
        if (first < 0) first = k;
        // Zeros inside a band cannot happen for a triangle, so the run is contiguous.
        row.push(w);
      }
    }
    firstBin[m] = Math.max(0, first);
    weights.push(Float32Array.from(row));
  }
  return { firstBin, weights };
}

/** The shared FFT with its plan bound, and a model-error message for a bad manifest size. */
class Fft {
  private readonly plan: FftPlan;

  constructor(size: number) {
    if (size < 2 || (size & (size - 1)) !== 0) throw new ModelError(`FFT size ${size} is not a power of two.`, STAGE);
    this.plan = fftPlan(size);
  }

  transform(re: Float64Array, im: Float64Array): void {
    fftInPlace(re, im, this.plan);
  }
}

/** Log-mel frames of a mono signal at the front end's rate, exactly as training/features.py. */
export class LogMelExtractor {
  readonly fe: MelFrontEnd;
  private readonly fft: Fft;
  private readonly window: Float64Array;
  private readonly bank: MelFilterbank;
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly mag: Float64Array;

  constructor(fe: MelFrontEnd) {
    this.fe = fe;
    this.fft = new Fft(fe.fftSize);
    this.window = new Float64Array(fe.fftSize);
    for (let i = 0; i < fe.fftSize; i++) this.window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / fe.fftSize);
    this.bank = melFilterbank(fe);
    this.re = new Float64Array(fe.fftSize);
    this.im = new Float64Array(fe.fftSize);
    this.mag = new Float64Array(fe.fftSize / 2 + 1);
  }

  /** Frames [startFrame, endFrame) as a row-major [frames, melBins] array; frame t is centred on sample t * hop. */
  frames(signal: Float32Array, startFrame: number, endFrame: number): Float32Array {
    const { fftSize, hopSamples, melBins, logFloor } = this.fe;
    const half = fftSize / 2;
    const out = new Float32Array(Math.max(0, endFrame - startFrame) * melBins);
    for (let t = startFrame; t < endFrame; t++) {
      const first = t * hopSamples - half;
      for (let i = 0; i < fftSize; i++) {
        const s = first + i;
        this.re[i] = s >= 0 && s < signal.length ? signal[s] * this.window[i] : 0;
        this.im[i] = 0;
      }
      this.fft.transform(this.re, this.im);
      for (let k = 0; k <= half; k++) this.mag[k] = Math.hypot(this.re[k], this.im[k]);
      const row = (t - startFrame) * melBins;
      for (let m = 0; m < melBins; m++) {
        const w = this.bank.weights[m];
        const b0 = this.bank.firstBin[m];
        let acc = 0;
        for (let j = 0; j < w.length; j++) acc += w[j] * this.mag[b0 + j];
        out[row + m] = Math.log(Math.max(acc, logFloor));
      }
    }
    return out;
  }
}

// ------------------------------------------------------------------------------------------ decoding

/** Model posteriors, each row-major [frames, keys]. */
export interface PianoPosteriors {
  readonly frames: number;
  readonly keys: number;
  readonly onset: Float32Array;
  readonly offset: Float32Array;
  readonly frame: Float32Array;
  readonly velocity: Float32Array;
  /** Sustain pedal, one value per frame; absent for models without a pedal head. */
  readonly pedal?: Float32Array;
}

/**
 * The exclusive end frame of a note whose frames after its onset run are [first, end) on key `k`:
 * the middle of the steepest fall of the frame posterior over `fallFrames` frames (the first one,
 * if several are as steep), or `end` itself when the note is too short to hold such a fall or
 * fallFrames is 0. Why: a held piano note fades slowly, so a fixed level is crossed too early on
 * long notes, while the key release is a sudden fall (the damper meets the string).
 */
export function releaseEndFrame(frame: Float32Array, keys: number, k: number, first: number, end: number, fallFrames: number): number {
  if (fallFrames <= 0 || end - first <= fallFrames) return end;
  let best = -Infinity;
  let bestT = first;
  for (let t = first; t + fallFrames < end; t++) {
    const fall = frame[t * keys + k] - frame[(t + fallFrames) * keys + k];
    if (fall > best) {
      best = fall;
      bestT = t;
    }
  }
  return bestT + Math.floor(fallFrames / 2) + 1;
}

/**
 * Mean of the frame posterior of key `k` over [peak, peak + frames), fewer at the end of the
 * posteriorgram. Why: an onset that no key-down follows is a ghost (a partial of another note, a
 * hammer knock): on MAPS, 36 % of the false notes start within 50 ms of a true onset an octave below.
 */
export function noteSupport(frame: Float32Array, keys: number, nFrames: number, k: number, peak: number, frames: number): number {
  const end = Math.min(nFrames, peak + frames);
  let sum = 0;
  for (let t = peak; t < end; t++) sum += frame[t * keys + k];
  return sum / (end - peak);
}

/**
 * Posteriors -> notes (training/decode.py does the same). A note starts at the peak frame of each
 * run of onset frames above threshold, refined to sub-frame time by a parabola through the peak
 * and its neighbours; it lasts while the frame posterior stays above threshold and ends early at a
 * confident offset or at the key's next onset run, then (with `releaseFallFrames`) at the steepest
 * fall of its frame posterior before that. With `support`, onsets that no key-down follows start
 * no note (their run still ends the key's previous note). Velocity is the mean over the onset run.
 * With `ghostConfidence`, the notes then pass dropHarmonicGhosts; with `minDurationSec`, the short
 * ones that remain are lengthened to it (applyMinimumDuration).
 */
export function decodeNotes(post: PianoPosteriors, frameSec: number, thresholds: DecodeThresholds, minPitchMidi: number): Note[] {
  const { frames: n, keys, onset, offset, frame, velocity } = post;
  const notes: Note[] = [];
  const at = (a: Float32Array, t: number, k: number): number => a[t * keys + k];
  const minSupport = thresholds.support ?? 0;
  const supportFrames = thresholds.supportFrames ?? 4;
  for (let k = 0; k < keys; k++) {
    let t = 0;
    while (t < n) {
      if (at(onset, t, k) < thresholds.onset) {
        t++;
        continue;
      }
      let runEnd = t;
      while (runEnd + 1 < n && at(onset, runEnd + 1, k) >= thresholds.onset) runEnd++;
      let peak = t;
      for (let i = t + 1; i <= runEnd; i++) if (at(onset, i, k) > at(onset, peak, k)) peak = i;
      if (minSupport > 0 && noteSupport(frame, keys, n, k, peak, supportFrames) < minSupport) {
        t = runEnd + 1;
        continue;
      }
      let delta = 0;
      if (peak > 0 && peak < n - 1) {
        const a = at(onset, peak - 1, k);
        const b = at(onset, peak, k);
        const c = at(onset, peak + 1, k);
        const den = a - 2 * b + c;
        if (den < 0) delta = Math.min(0.5, Math.max(-0.5, (0.5 * (a - c)) / den));
      }
      let end = runEnd + 1;
      while (end < n && at(onset, end, k) < thresholds.onset && at(frame, end, k) >= thresholds.frame) {
        if (at(offset, end, k) >= thresholds.offset) break;
        end++;
      }
      end = releaseEndFrame(frame, keys, k, runEnd + 1, end, thresholds.releaseFallFrames ?? 0);
      const onsetSec = (peak + delta) * frameSec;
      const offsetSec = Math.max(end * frameSec, onsetSec + frameSec);
      let vel = 0;
      for (let i = t; i <= runEnd; i++) vel += at(velocity, i, k);
      vel /= runEnd - t + 1;
      notes.push({
        onsetSec,
        offsetSec,
        pitchMidi: k + minPitchMidi,
        velocity: Math.min(127, Math.max(1, Math.round(vel * 127))),
        confidence: at(onset, peak, k),
      });
      t = runEnd + 1;
    }
  }
  notes.sort((x, y) => x.onsetSec - y.onsetSec || x.pitchMidi - y.pitchMidi);
  const kept = thresholds.ghostConfidence ? dropHarmonicGhosts(notes, thresholds.ghostConfidence, thresholds.ghostRatio ?? 1) : notes;
  return thresholds.minDurationSec ? applyMinimumDuration(kept, thresholds.minDurationSec) : kept;
}

/**
 * A partial of a struck note sits 12 (2nd harmonic) or 19 (3rd) semitones above it; a note's onset
 * can also make the onset detector fire an octave or a twelfth below it.
 */
export const GHOST_INTERVALS: readonly number[] = [12, 19];
export const GHOST_WINDOW_SEC = 0.03;

/**
 * Drops the notes (sorted by onset) whose confidence is below `maxConfidence` and which start within
 * GHOST_WINDOW_SEC of a note an octave or a twelfth away, above or below, that is more confident by
 * more than 1 / `ratio`. Why: these are most of a piano's false notes (on MAPS, of the ensemble's,
 * 36 % start within 50 ms of a true note an octave below them and 28 % of one an octave above),
 * while a played octave has two confident onsets. Each note is judged against all the input notes,
 * dropped ones included, so the order does not matter (training/decode.py does the same).
 */
export function dropHarmonicGhosts(notes: readonly Note[], maxConfidence: number, ratio: number): Note[] {
  const near = GHOST_WINDOW_SEC + 1e-9;
  let lo = 0;
  return notes.filter((n, j) => {
    while (notes[lo].onsetSec < n.onsetSec - near) lo++;
    if (n.confidence >= maxConfidence) return true;
    for (let i = lo; i < notes.length && notes[i].onsetSec <= n.onsetSec + near; i++) {
      const m = notes[i];
      if (i !== j && Math.abs(m.onsetSec - n.onsetSec) <= GHOST_WINDOW_SEC && GHOST_INTERVALS.includes(Math.abs(m.pitchMidi - n.pitchMidi)) && m.confidence * ratio > n.confidence) {
        return false;
      }
    }
    return true;
  });
}

/** Decoding settings as the caller asked: without the pedal hold when `holdUnderPedal` is false. */
export function callerDecoding(thresholds: DecodeThresholds, options?: Pick<TranscribeOptions, 'holdUnderPedal'>): DecodeThresholds {
  return options?.holdUnderPedal === false ? { ...thresholds, pedalHoldSec: 0 } : thresholds;
}

/**
 * Posteriors -> the transcription: notes (decodeNotes) and, where the model has a pedal head, the
 * sustain pedal's spans (decodePedal at `pedalThreshold`), with the notes released under the pedal
 * held as `pedalHoldSec` says (holdUnderPedal).
 */
export function decodeTranscription(
  post: PianoPosteriors,
  frameSec: number,
  thresholds: DecodeThresholds,
  minPitchMidi: number,
  pedalThreshold: number,
): Transcription {
  const notes = decodeNotes(post, frameSec, thresholds, minPitchMidi);
  if (!post.pedal) return { notes };
  const pedal = decodePedal(post.pedal, frameSec, pedalThreshold);
  return { notes: thresholds.pedalHoldSec ? holdUnderPedal(notes, pedal, thresholds.pedalHoldSec) : notes, pedal };
}

/** Pedal presses shorter than this are flicker of the posterior, not a foot on the pedal. */
export const MIN_PEDAL_SEC = 0.1;

/**
 * Pedal posterior -> spans where it is down: runs of frames at or above threshold, merged across
 * gaps shorter than MIN_PEDAL_SEC (a quick re-pedal that the model half-sees) and then kept if at
 * least MIN_PEDAL_SEC long. Span ends are frame times, as note offsets are.
 */
export function decodePedal(pedal: Float32Array, frameSec: number, threshold: number): PedalSpan[] {
  const runs: Array<[number, number]> = [];
  let t = 0;
  while (t < pedal.length) {
    if (pedal[t] < threshold) {
      t++;
      continue;
    }
    let end = t;
    while (end < pedal.length && pedal[end] >= threshold) end++;
    const last = runs[runs.length - 1];
    if (last && (t - last[1]) * frameSec < MIN_PEDAL_SEC) last[1] = end;
    else runs.push([t, end]);
    t = end;
  }
  return runs
    .filter(([a, b]) => (b - a) * frameSec >= MIN_PEDAL_SEC)
    .map(([a, b]) => ({ onsetSec: a * frameSec, offsetSec: b * frameSec }));
}

// ------------------------------------------------------------------------------------------ inference

export interface PianoTranscriberOptions {
  /** Folder with manifest.json and the ONNX file; default `<models>/piano`. */
  modelDir?: string;
  /** onnxruntime intra-op threads (default: onnxruntime's choice, all cores). */
  intraOpNumThreads?: number;
}

export class PianoTranscriber implements Transcriber {
  readonly info: ModelInfo;
  readonly manifest: PianoManifest;
  readonly #session: InferenceSession;
  readonly #mel: LogMelExtractor;

  private constructor(manifest: PianoManifest, session: InferenceSession) {
    this.manifest = manifest;
    this.#session = session;
    this.#mel = new LogMelExtractor(manifest.features);
    this.info = { name: 'piano', version: manifest.version, license: manifest.license };
  }

  static async create(opts: PianoTranscriberOptions = {}): Promise<PianoTranscriber> {
    const dir = opts.modelDir ?? modelPath('piano');
    const manifest = loadPianoManifest(dir);
    const file = join(dir, manifest.file);
    if (!existsSync(file)) throw new ModelError(`Piano model ${file} not found; reinstall stemscribe or set STEMSCRIBE_MODELS_DIR.`, STAGE);
    let session: InferenceSession;
    try {
      session = await InferenceSession.create(file, {
        executionProviders: ['cpu'],
        ...(opts.intraOpNumThreads ? { intraOpNumThreads: opts.intraOpNumThreads } : {}),
      });
    } catch (e) {
      throw new ModelError(`Piano model ${file} could not be loaded (corrupt or incompatible file).`, STAGE, { cause: e });
    }
    const outs = Object.values(manifest.outputs);
    if (!session.inputNames.includes(manifest.input) || outs.some((o) => !session.outputNames.includes(o))) {
      throw new ModelError(`Piano model ${file} does not have the tensors its manifest names (${manifest.input} -> ${outs.join(', ')}).`, STAGE);
    }
    return new PianoTranscriber(manifest, session);
  }

  /** Seconds per posterior frame. */
  get frameSec(): number {
    return this.manifest.features.hopSamples / this.manifest.features.sampleRateHz;
  }

  /** Mono audio at the model's rate -> posteriors, one chunk (plus context) at a time. */
  async posteriors(
    mono: Float32Array,
    onProgress?: (fractionDone: number) => void,
    chunking: { chunkFrames: number; contextFrames: number } = this.manifest,
  ): Promise<PianoPosteriors> {
    const { keys, input, outputs, features } = this.manifest;
    const { chunkFrames, contextFrames } = chunking;
    const n = frameCount(mono.length, features.hopSamples);
    const result = {
      frames: n,
      keys,
      onset: new Float32Array(n * keys),
      offset: new Float32Array(n * keys),
      frame: new Float32Array(n * keys),
      velocity: new Float32Array(n * keys),
      ...(outputs.pedal !== undefined ? { pedal: new Float32Array(n) } : {}),
    };
    for (let core = 0; core < n; core += chunkFrames) {
      const a = Math.max(0, core - contextFrames);
      const b = Math.min(n, core + chunkFrames + contextFrames);
      const e = Math.min(n, core + chunkFrames);
      const mel = this.#mel.frames(mono, a, b);
      const feeds = { [input]: new Tensor('float32', mel, [1, b - a, features.melBins]) };
      const res = await this.#session.run(feeds);
      // Copies this chunk's core rows ([frames, width]) of one output into the song-length array.
      const keepCore = (name: string, into: Float32Array, width: number): void => {
        const t = res[name];
        if (!t || !(t.data instanceof Float32Array)) throw new ModelError(`Piano model returned no float32 '${name}' output.`, STAGE);
        into.set(t.data.subarray((core - a) * width, (e - a) * width), core * width);
        t.dispose();
      };
      for (const key of ['onset', 'offset', 'frame', 'velocity'] as const) keepCore(outputs[key], result[key], keys);
      if (result.pedal && outputs.pedal !== undefined) keepCore(outputs.pedal, result.pedal, 1);
      onProgress?.(e / n);
    }
    return result;
  }

  async transcribe(audio: AudioData, options?: TranscribeOptions): Promise<Transcription> {
    if (audio.channels.length === 0) throw new StemscribeError('Cannot transcribe audio with no channels.', STAGE);
    const mono = resampleAudio(downmixToMono(audio), this.manifest.features.sampleRateHz).channels[0];
    const post = await this.posteriors(mono, options?.onProgress);
    const { thresholds, minPitchMidi } = this.manifest;
    const decoding = callerDecoding(decodingFor(this.manifest, options?.source), options);
    return decodeTranscription(post, this.frameSec, decoding, minPitchMidi, thresholds.pedal ?? 0.5);
  }

  async dispose(): Promise<void> {
    await this.#session.release();
  }
}
