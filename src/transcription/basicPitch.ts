/**
 * basic-pitch (Spotify, ICASSP 2022) as a `Transcriber`, on onnxruntime-node.
 *
 * The ONNX graph takes raw mono 22,050 Hz audio in windows of 43,844 samples ([b, 43844, 1]) and
 * returns 172 frames (hop 256 samples) of note, onset and contour posteriors per window. As
 * upstream, the audio is preceded by 15 frames of zeros, cut into windows whose first and last
 * 15 frames (30 overlapping frames) are dropped, and the kept frames are concatenated ("unwrapped")
 * into one posteriorgram for the whole file; notes are then decoded once over it (`notes.ts`),
 * so no note is split where windows meet. (The network normalises each window on its own, so a
 * held note's posterior can step at a seam; onset inference is told where the seams are so the
 * step does not start a new note, see `SegmentContext`.)
 *
 * One deliberate difference: upstream advances windows by 43,844 - 30 * 256 = 36,164 samples,
 * which is not a whole number of frames, so its unwrapped frames slip 188 samples off the
 * 256-sample grid at every window, and it corrects note times afterwards with a per-window
 * "magic" offset. We advance by exactly the 142 kept frames (36,352 samples): every kept frame
 * has the same context as upstream's (15 frames before, 15.3 after), and frame `t` of the
 * unwrapped posteriorgram is centred at exactly `t * 256 / 22050` seconds.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { downmixToMono } from '../audio/channels.js';
import { resample } from '../audio/resample.js';
import { ModelError } from '../errors.js';
import { modelPath } from '../models/paths.js';
import type { AudioData, ModelInfo, Note, StageOptions, TranscribeOptions, Transcriber, Transcription } from '../types.js';
import { decodeNotes, N_DIFF_FRAMES, N_PITCHES, type NoteDecodeOptions } from './notes.js';

export const SAMPLE_RATE_HZ = 22050;
export const FFT_HOP_SAMPLES = 256;
export const WINDOW_SAMPLES = 43844;
export const FRAMES_PER_WINDOW = 172;
export const OVERLAP_FRAMES = 30;
const HALF_OVERLAP_FRAMES = OVERLAP_FRAMES / 2;
/** Frames each window contributes to the unwrapped posteriorgram. */
export const KEPT_FRAMES_PER_WINDOW = FRAMES_PER_WINDOW - OVERLAP_FRAMES;
/** Window advance: a whole number of frames (see the module comment). */
export const WINDOW_HOP_SAMPLES = KEPT_FRAMES_PER_WINDOW * FFT_HOP_SAMPLES;
/** Zeros before the audio, so the first kept frame is centred on sample 0. */
export const LEAD_PAD_SAMPLES = HALF_OVERLAP_FRAMES * FFT_HOP_SAMPLES;

export type OutputKey = 'note' | 'onset' | 'contour';

/**
 * Backend tensor names -> our keys, in one place: our converted model
 * (scripts/convert-basic-pitch.py) and upstream's tf2onnx export (`nmp.onnx`), which the
 * transcriber also runs, e.g. to compare against.
 */
export const TENSOR_NAMES = {
  converted: { input: 'input_2', note: 'note', onset: 'onset', contour: 'contour' },
  upstreamOnnx: {
    input: 'serving_default_input_2:0',
    note: 'StatefulPartitionedCall:1',
    onset: 'StatefulPartitionedCall:2',
    contour: 'StatefulPartitionedCall:0',
  },
} as const;
export type TensorNames = (typeof TENSOR_NAMES)[keyof typeof TENSOR_NAMES];

/** Which naming a loaded session uses; throws `ModelError` when it is neither. */
export function tensorNamesOf(session: ort.InferenceSession, path: string): TensorNames {
  for (const names of Object.values(TENSOR_NAMES)) {
    const outputs = [names.note, names.onset, names.contour];
    if (session.inputNames.includes(names.input) && outputs.every((o) => session.outputNames.includes(o))) return names;
  }
  throw new ModelError(
    `${path} is not a basic-pitch model: inputs [${session.inputNames.join(', ')}], outputs [${session.outputNames.join(', ')}].`,
    'transcribe',
  );
}

/** Number of posteriorgram frames for `nbSamples` at 22,050 Hz: frames centred inside the audio. */
export const frameCount = (nbSamples: number): number => Math.ceil(nbSamples / FFT_HOP_SAMPLES);
export const windowCount = (nbFrames: number): number => Math.ceil(nbFrames / KEPT_FRAMES_PER_WINDOW);
/** Centre time of unwrapped frame `t`, seconds. */
export const frameTimeSec = (t: number): number => (t * FFT_HOP_SAMPLES) / SAMPLE_RATE_HZ;

/** Copies window `w` of `x` (zero outside the audio) into `out` at `outOffset`. */
export function fillWindow(x: Float32Array, w: number, out: Float32Array, outOffset: number): void {
  const start = w * WINDOW_HOP_SAMPLES - LEAD_PAD_SAMPLES;
  const from = Math.max(0, start);
  const to = Math.min(x.length, start + WINDOW_SAMPLES);
  out.fill(0, outOffset, outOffset + WINDOW_SAMPLES);
  if (to > from) out.set(x.subarray(from, to), outOffset + (from - start));
}

export interface Posteriorgrams {
  nbFrames: number;
  /** [shape=(nb_frames, 88)] */
  note: Float32Array;
  /** [shape=(nb_frames, 88)] */
  onset: Float32Array;
  /**
   * [shape=(nb_windows, 2, 88)]: window w's note posteriors for the 2 frames before its first
   * kept frame (from its overlap region), for seam-aware onset inference (`SegmentContext`).
   */
  noteBefore: Float32Array;
}

export interface BasicPitchOptions {
  /** ONNX file; default `models/basic-pitch/basic-pitch.onnx` (checked against its manifest). */
  modelPath?: string;
  /** onnxruntime intra-op threads; default: onnxruntime's choice (all cores). */
  intraOpNumThreads?: number;
  /** Windows per inference call. Default 1 (batching did not speed up the CPU run). */
  batchWindows?: number;
  /** Note decoding thresholds (defaults as upstream: 0.5 onset, 0.3 frame, 11 frames). */
  decode?: NoteDecodeOptions;
}

interface Manifest {
  file: string;
  sha256: string;
  source: { package: string; version: string; license: string };
}

function readManifest(path: string): Manifest | undefined {
  const manifestPath = join(dirname(path), 'manifest.json');
  if (!existsSync(manifestPath)) return undefined;
  return JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
}

export class BasicPitchTranscriber implements Transcriber {
  public readonly info: ModelInfo;
  readonly #session: ort.InferenceSession;
  readonly #names: TensorNames;
  readonly #batchWindows: number;
  readonly #decode: NoteDecodeOptions;

  private constructor(session: ort.InferenceSession, names: TensorNames, info: ModelInfo, options: BasicPitchOptions) {
    this.#session = session;
    this.#names = names;
    this.info = info;
    this.#batchWindows = Math.max(1, Math.floor(options.batchWindows ?? 1));
    this.#decode = options.decode ?? {};
  }

  /** Loads the model; throws `ModelError` when the file is missing, altered or not basic-pitch. */
  public static async create(options: BasicPitchOptions = {}): Promise<BasicPitchTranscriber> {
    const path = options.modelPath ?? modelPath('basic-pitch', 'basic-pitch.onnx');
    if (!existsSync(path)) {
      throw new ModelError(
        `basic-pitch model not found at ${path}; regenerate it with \`python3 scripts/convert-basic-pitch.py\` or reinstall stemscribe.`,
        'transcribe',
      );
    }
    const bytes = readFileSync(path);
    const manifest = readManifest(path);
    let info: ModelInfo = { name: 'basic-pitch', version: 'unknown', license: 'Apache-2.0' };
    if (manifest && manifest.file === path.split(/[\\/]/).pop()) {
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      if (sha256 !== manifest.sha256) {
        throw new ModelError(`${path} does not match its manifest (sha256 ${sha256}, expected ${manifest.sha256}); the file is corrupt or was replaced.`, 'transcribe');
      }
      info = { name: 'basic-pitch', version: `${manifest.source.package}@${manifest.source.version}`, license: manifest.source.license };
    }
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        // onnxruntime-node rejects an explicit `undefined`: only pass a thread count when given.
        ...(options.intraOpNumThreads !== undefined ? { intraOpNumThreads: options.intraOpNumThreads } : {}),
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
    } catch (err) {
      throw new ModelError(`Cannot load ${path}: ${(err as Error).message}`, 'transcribe', { cause: err });
    }
    return new BasicPitchTranscriber(session, tensorNamesOf(session, path), info, options);
  }

  /**
   * Runs the network over the whole signal and unwraps the windows.
   * @param x mono audio at 22,050 Hz
   */
  public async posteriorgrams(x: Float32Array, options?: StageOptions): Promise<Posteriorgrams> {
    const nbFrames = frameCount(x.length);
    const nbWindows = windowCount(nbFrames);
    const note = new Float32Array(nbFrames * N_PITCHES);
    const onset = new Float32Array(nbFrames * N_PITCHES);
    const noteBefore = new Float32Array(nbWindows * N_DIFF_FRAMES * N_PITCHES);
    const input = new Float32Array(this.#batchWindows * WINDOW_SAMPLES);
    for (let w0 = 0; w0 < nbWindows; w0 += this.#batchWindows) {
      const batch = Math.min(this.#batchWindows, nbWindows - w0);
      for (let b = 0; b < batch; b++) fillWindow(x, w0 + b, input, b * WINDOW_SAMPLES);
      const feeds = { [this.#names.input]: new ort.Tensor('float32', input.subarray(0, batch * WINDOW_SAMPLES), [batch, WINDOW_SAMPLES, 1]) };
      const out = await this.#session.run(feeds, [this.#names.note, this.#names.onset]);
      const noteOut = out[this.#names.note].data as Float32Array;
      const onsetOut = out[this.#names.onset].data as Float32Array;
      for (let b = 0; b < batch; b++) {
        const firstFrame = (w0 + b) * KEPT_FRAMES_PER_WINDOW;
        const nKept = Math.min(KEPT_FRAMES_PER_WINDOW, nbFrames - firstFrame);
        const src = (b * FRAMES_PER_WINDOW + HALF_OVERLAP_FRAMES) * N_PITCHES;
        note.set(noteOut.subarray(src, src + nKept * N_PITCHES), firstFrame * N_PITCHES);
        onset.set(onsetOut.subarray(src, src + nKept * N_PITCHES), firstFrame * N_PITCHES);
        for (let n = 1; n <= N_DIFF_FRAMES; n++) {
          const from = src - n * N_PITCHES;
          noteBefore.set(noteOut.subarray(from, from + N_PITCHES), ((w0 + b) * N_DIFF_FRAMES + n - 1) * N_PITCHES);
        }
      }
      for (const t of Object.values(out)) t.dispose();
      options?.onProgress?.(Math.min(1, (w0 + batch) / nbWindows));
    }
    return { nbFrames, note, onset, noteBefore };
  }

  /** One set of decoding settings for solo and separated audio alike (upstream's). */
  public async transcribe(audio: AudioData, options?: TranscribeOptions): Promise<Transcription> {
    const mono = downmixToMono(audio).channels[0] ?? new Float32Array(0);
    const x = audio.sampleRateHz === SAMPLE_RATE_HZ ? mono : resample(mono, audio.sampleRateHz, SAMPLE_RATE_HZ);
    const { nbFrames, note, onset, noteBefore } = await this.posteriorgrams(x, options);
    const segments = { segmentFrames: KEPT_FRAMES_PER_WINDOW, framesBefore: noteBefore };
    const notes: Note[] = decodeNotes(note, onset, nbFrames, { segments, ...this.#decode }).map((n) => ({
      onsetSec: frameTimeSec(n.startFrame),
      offsetSec: frameTimeSec(n.endFrame),
      pitchMidi: n.pitchMidi,
      // Upstream writes MIDI velocity round(127 * amplitude): the note's mean frame posterior.
      velocity: Math.min(127, Math.max(1, Math.round(127 * n.amplitude))),
      confidence: n.amplitude,
    }));
    notes.sort((a, b) => a.onsetSec - b.onsetSec || a.pitchMidi - b.pitchMidi);
    options?.onProgress?.(1);
    return { notes };
  }

  public async dispose(): Promise<void> {
    await this.#session.release();
  }
}
