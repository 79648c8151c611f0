/**
 * Learned beat and downbeat activations from a note list: frame features (the same as
 * training/beats/features.py), a small dilated TCN in ONNX (models/beats/, trained on ASAP by
 * training/beats/train.py), loaded lazily on first use through onnxruntime-node.
 *
 * The network only says, per 20 ms frame, how likely a beat and a downbeat are; the tempo-consistent
 * decoding (which fixes half/double-tempo and off-beat errors) is beatsDbn.ts.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { ModelError } from '../errors.js';
import { modelPath } from '../models/paths.js';
import type { Note } from '../types.js';

const STAGE = 'postprocess';

/** Feature frames per second and features per frame; must match training/beats/features.py. */
export const BEAT_FPS = 50;
export const BEAT_NB_FEATURES = 26;

/** Per-frame distribution over local-tempo classes (the model's auxiliary tempo head). */
export interface TempoPosterior {
  /** Centre of each class, beats per minute, ascending (log-spaced). */
  bpm: Float32Array;
  /** [shape=(frames, bpm.length)] row-major class probabilities; each row sums to 1. */
  probs: Float32Array;
}

/** Per-frame beat and downbeat probabilities at `fps`, and the tempo posterior when the model has one. */
export interface BeatActivations {
  fps: number;
  beat: Float32Array;
  downbeat: Float32Array;
  tempo?: TempoPosterior;
}

const frameOf = (timeSec: number, fps: number): number => Math.floor(Math.max(0, timeSec) * fps + 0.5);

/**
 * [shape=(nb_frames, 26)] row-major frame features of the note onsets (see features.py for the list):
 * onset count, loudness, register bands, bass, duration, notes sounding, pitch classes.
 */
export function beatFeatures(notes: readonly Note[], fps = BEAT_FPS): { features: Float32Array; nbFrames: number } {
  const F = BEAT_NB_FEATURES;
  let lastOnsetSec = 0;
  for (const n of notes) lastOnsetSec = Math.max(lastOnsetSec, n.onsetSec);
  const nbFrames = frameOf(lastOnsetSec, fps) + 1 + fps;
  const x = new Float64Array(nbFrames * F);
  const diff = new Float64Array(nbFrames + 1);
  for (const n of notes) {
    const f = frameOf(n.onsetSec, fps);
    if (f >= nbFrames) continue;
    const pitch = Math.min(108, Math.max(21, Math.trunc(n.pitchMidi)));
    const vel = n.velocity / 127;
    const row = f * F;
    x[row] += 1;
    x[row + 1] = Math.max(x[row + 1], vel);
    x[row + 2] += vel;
    const band = Math.min(7, Math.floor((pitch - 21) / 11));
    x[row + 3 + band] = Math.max(x[row + 3 + band], vel);
    x[row + 11] = Math.max(x[row + 11], Math.min(1, Math.max(0, (108 - pitch) / 87)));
    x[row + 12] = Math.max(x[row + 12], Math.log1p(Math.min(4, Math.max(0, n.offsetSec - n.onsetSec))));
    const fOff = Math.min(Math.max(frameOf(n.offsetSec, fps), f + 1), nbFrames);
    diff[f] += 1;
    diff[fOff] -= 1;
    x[row + 14 + (pitch % 12)] = Math.max(x[row + 14 + (pitch % 12)], vel);
  }
  let sounding = 0;
  const out = new Float32Array(nbFrames * F);
  for (let f = 0; f < nbFrames; f++) {
    sounding += diff[f];
    const row = f * F;
    x[row] = Math.log1p(x[row]);
    x[row + 2] = Math.log1p(x[row + 2]);
    x[row + 13] = Math.log1p(sounding);
    for (let k = 0; k < F; k++) out[row + k] = x[row + k];
  }
  return { features: out, nbFrames };
}

export interface BeatModelManifest {
  name: string;
  version: string;
  license: string;
  file: string;
  /** Hex SHA-256 of the ONNX file, checked on load. */
  sha256?: string;
  fps: number;
  nbFeatures: number;
  input: string;
  output: string;
  /** Optional second output: softmax over local-tempo classes centred at `tempoBpm`. */
  tempoOutput?: string;
  tempoBpm?: number[];
}

export interface BeatModelOptions {
  /** Folder with manifest.json and the ONNX file (default models/beats). */
  modelDir?: string;
  intraOpNumThreads?: number;
}

export class BeatModel {
  readonly manifest: BeatModelManifest;
  readonly #session: InferenceSession;

  private constructor(manifest: BeatModelManifest, session: InferenceSession) {
    this.manifest = manifest;
    this.#session = session;
  }

  /** True when the model files are installed (the learned tracker can run). */
  static available(modelDir: string = modelPath('beats')): boolean {
    return existsSync(join(modelDir, 'manifest.json'));
  }

  static async create(opts: BeatModelOptions = {}): Promise<BeatModel> {
    const dir = opts.modelDir ?? modelPath('beats');
    const { manifest, session } = await openBeatOnnx<BeatModelManifest>(
      dir,
      (m) =>
        m.fps !== BEAT_FPS || m.nbFeatures !== BEAT_NB_FEATURES
          ? `Beat model ${dir} expects ${m.nbFeatures} features at ${m.fps} fps; this build computes ${BEAT_NB_FEATURES} at ${BEAT_FPS}.`
          : undefined,
      (m) => [m.output, ...(m.tempoOutput ? [m.tempoOutput] : [])],
      opts.intraOpNumThreads,
    );
    return new BeatModel(manifest, session);
  }

  /** Beat and downbeat probabilities per frame for a whole note list (one run: the TCN is small). */
  async activations(notes: readonly Note[]): Promise<BeatActivations> {
    const { features, nbFrames } = beatFeatures(notes, this.manifest.fps);
    const ort = await import('onnxruntime-node');
    const input = new ort.Tensor('float32', features, [1, nbFrames, BEAT_NB_FEATURES]);
    const result = await this.#session.run({ [this.manifest.input]: input });
    const out = result[this.manifest.output].data as Float32Array;
    const beat = new Float32Array(nbFrames);
    const downbeat = new Float32Array(nbFrames);
    for (let f = 0; f < nbFrames; f++) {
      beat[f] = out[2 * f];
      downbeat[f] = out[2 * f + 1];
    }
    const { tempoOutput, tempoBpm } = this.manifest;
    if (!tempoOutput || !tempoBpm) return { fps: this.manifest.fps, beat, downbeat };
    const probs = result[tempoOutput].data as Float32Array;
    return { fps: this.manifest.fps, beat, downbeat, tempo: { bpm: Float32Array.from(tempoBpm), probs: probs.slice(0, nbFrames * tempoBpm.length) } };
  }

  async dispose(): Promise<void> {
    await this.#session.release();
  }
}

/** What every beat model's manifest names: its ONNX file (and checksum) and its tensors. */
export interface BeatOnnxManifest {
  file: string;
  /** Hex SHA-256 of the ONNX file, checked on load. */
  sha256?: string;
  input: string;
}

/**
 * Opens a beat model folder (this file's TCN, noteBeatModel.ts's note model): reads manifest.json,
 * lets `check` reject a manifest this build cannot feed (it returns the message), verifies the ONNX
 * file's checksum, creates the session and checks that it has the input and `outputs` the manifest
 * names. Every failure is a ModelError a user can act on.
 */
export async function openBeatOnnx<M extends BeatOnnxManifest>(
  dir: string,
  check: (manifest: M) => string | undefined,
  outputs: (manifest: M) => string[],
  intraOpNumThreads?: number,
): Promise<{ manifest: M; session: InferenceSession }> {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new ModelError(`Beat model manifest ${manifestPath} not found; reinstall stemscribe or set STEMSCRIBE_MODELS_DIR.`, STAGE);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as M;
  const problem = check(manifest);
  if (problem) throw new ModelError(problem, STAGE);
  const file = join(dir, manifest.file);
  if (!existsSync(file)) throw new ModelError(`Beat model ${file} not found; reinstall stemscribe or set STEMSCRIBE_MODELS_DIR.`, STAGE);
  const bytes = new Uint8Array(readFileSync(file));
  if (manifest.sha256 && createHash('sha256').update(bytes).digest('hex') !== manifest.sha256) {
    throw new ModelError(`Beat model ${file} does not match the checksum in its manifest (damaged or replaced file).`, STAGE);
  }
  // Imported here so that the pure post-processing path never loads the native runtime.
  const ort = await import('onnxruntime-node');
  let session: InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      ...(intraOpNumThreads ? { intraOpNumThreads } : {}),
    });
  } catch (e) {
    throw new ModelError(`Beat model ${file} could not be loaded (missing, corrupt or incompatible file).`, STAGE, { cause: e });
  }
  const names = outputs(manifest);
  if (!session.inputNames.includes(manifest.input) || names.some((n) => !session.outputNames.includes(n))) {
    throw new ModelError(`Beat model ${file} does not have the tensors its manifest names (${manifest.input} -> ${names.join(', ')}).`, STAGE);
  }
  return { manifest, session };
}

let shared: Promise<BeatModel> | undefined;

/** The default model, loaded once per process on first use. */
export function defaultBeatModel(): Promise<BeatModel> {
  shared ??= BeatModel.create({ intraOpNumThreads: 1 }).catch((e: unknown) => {
    shared = undefined;
    throw e;
  });
  return shared;
}
