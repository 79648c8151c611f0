/**
 * Learned beat, downbeat and tempo probabilities per note: note features (the same as
 * training/beats/note_features.py), a CRNN over the note sequence in ONNX (trained on ASAP by
 * training/beats/note_train.py, after PM2S: Liu, Mou, Benetos, ISMIR 2022), through onnxruntime-node.
 *
 * Used for downbeats and meter only (models/beats-notes): on the validation pieces its beats scored
 * below the frame-level TCN of models/beats (beat F 58.3 vs 60.7), its meter far above it (89 vs 72 %
 * duple/triple right with the TCN's beats; training/beats/README.md). bench/beatsTune.ts measures it.
 *
 * The network says, per note, how likely its onset is a beat, a downbeat, and which local tempo
 * (inter-beat-interval class) it is in. `frameActivations` renders that on a frame grid, so that the
 * tempo-consistent decoders of beatsDbn.ts (beat DBN, bar HMM) turn it into beats: the DBN places
 * beats on likely notes and bridges rests and held chords at a steady tempo.
 */
import type { InferenceSession } from 'onnxruntime-node';
import { modelPath } from '../models/paths.js';
import type { Note } from '../types.js';
import { openBeatOnnx, type BeatActivations } from './beatModel.js';

/** Features per note; must match training/beats/note_features.py. */
export const NOTE_BEAT_NB_PITCHES = 88;
export const NOTE_BEAT_NB_FEATURES = NOTE_BEAT_NB_PITCHES + 7;
/** Onsets closer than this to the previous one count as the same chord (feature 90). */
const CHORD_GAP_SEC = 0.035;
/** Frame rate of the rendered activations (the DBN's time step). */
export const NOTE_BEAT_FPS = 50;

const byOnsetThenPitch = (a: Note, b: Note): number => a.onsetSec - b.onsetSec || a.pitchMidi - b.pitchMidi;

/** The notes in the order the network reads them: by onset, then pitch. */
export function sortNotesForBeats(notes: readonly Note[]): Note[] {
  return [...notes].sort(byOnsetThenPitch);
}

/**
 * [shape=(nb_notes, 95)] row-major features of notes already in `sortNotesForBeats` order (see
 * note_features.py for the list): one-hot pitch, onset gaps to the previous and next note, chord
 * membership, duration, velocity.
 */
export function noteBeatFeatures(sorted: readonly Note[]): Float32Array {
  const F = NOTE_BEAT_NB_FEATURES;
  const n = sorted.length;
  const x = new Float32Array(n * F);
  for (let i = 0; i < n; i++) {
    const note = sorted[i];
    const row = i * F;
    const pitch = Math.min(108, Math.max(21, Math.trunc(note.pitchMidi)));
    x[row + pitch - 21] = 1;
    const dtSec = i > 0 ? note.onsetSec - sorted[i - 1].onsetSec : 0;
    const dtNextSec = i + 1 < n ? sorted[i + 1].onsetSec - note.onsetSec : 0;
    const durSec = Math.max(0, note.offsetSec - note.onsetSec);
    x[row + 88] = Math.min(dtSec, 4) / 4;
    x[row + 89] = Math.log(Math.max(dtSec, 1e-3)) / 4;
    x[row + 90] = dtSec < CHORD_GAP_SEC ? 1 : 0;
    x[row + 91] = Math.min(durSec, 4) / 4;
    x[row + 92] = Math.log(Math.max(durSec, 1e-2)) / 4;
    x[row + 93] = note.velocity / 127;
    x[row + 94] = Math.min(dtNextSec, 4) / 4;
  }
  return x;
}

/** The network's output for each note of `notes` (sorted by onset, then pitch). */
export interface NoteBeatProbabilities {
  notes: Note[];
  /** [shape=(nb_notes,)] probability that the note's onset is a beat. */
  beat: Float32Array;
  /** [shape=(nb_notes,)] probability that it is a downbeat. */
  downbeat: Float32Array;
  /** Centre of each local-tempo class, BPM, ascending (log-spaced). */
  tempoBpm: Float32Array;
  /** [shape=(nb_notes, tempoBpm.length)] row-major class probabilities; each row sums to 1. */
  tempo: Float32Array;
}

const frameOf = (timeSec: number, fps: number): number => Math.floor(Math.max(0, timeSec) * fps + 0.5);

/**
 * Per-frame activations from per-note probabilities: a frame's beat (downbeat) value is the largest
 * of the notes starting in it, `floor` where no note starts (a beat can fall in a rest or on a held
 * chord: the DBN must be allowed to put one there, at a price). The tempo posterior of a frame is
 * the mean over the notes of the last onset frame at or before it. nb_frames = frame(last onset) + 1
 * + fps, so the decoder sees a second past the last note.
 */
export function frameActivations(probs: NoteBeatProbabilities, fps: number, floor: number): BeatActivations {
  const { notes, tempoBpm } = probs;
  const K = tempoBpm.length;
  let lastOnsetSec = 0;
  for (const n of notes) lastOnsetSec = Math.max(lastOnsetSec, n.onsetSec);
  const nbFrames = frameOf(lastOnsetSec, fps) + 1 + fps;
  const beat = new Float32Array(nbFrames).fill(floor);
  const downbeat = new Float32Array(nbFrames).fill(floor);
  const hasNote = new Uint8Array(nbFrames);
  const tempoSum = new Float64Array(nbFrames * K);
  const tempoCount = new Uint32Array(nbFrames);
  notes.forEach((n, i) => {
    const f = frameOf(n.onsetSec, fps);
    beat[f] = hasNote[f] ? Math.max(beat[f], probs.beat[i]) : Math.max(floor, probs.beat[i]);
    downbeat[f] = hasNote[f] ? Math.max(downbeat[f], probs.downbeat[i]) : Math.max(floor, probs.downbeat[i]);
    hasNote[f] = 1;
    tempoCount[f]++;
    for (let k = 0; k < K; k++) tempoSum[f * K + k] += probs.tempo[i * K + k];
  });
  const tempo = new Float32Array(nbFrames * K).fill(1 / K);
  let held = -1;
  for (let f = 0; f < nbFrames; f++) {
    if (tempoCount[f] > 0) held = f;
    if (held < 0) continue;
    for (let k = 0; k < K; k++) tempo[f * K + k] = tempoSum[held * K + k] / tempoCount[held];
  }
  return { fps, beat, downbeat, tempo: { bpm: tempoBpm, probs: tempo } };
}

export interface NoteBeatModelManifest {
  name: string;
  version: string;
  license: string;
  file: string;
  /** Hex SHA-256 of the ONNX file, checked on load. */
  sha256?: string;
  nbFeatures: number;
  input: string;
  /** [1, nb_notes, 2] sigmoid (beat, downbeat). */
  output: string;
  /** [1, nb_notes, tempoBpm.length] softmax over local-tempo classes. */
  tempoOutput: string;
  tempoBpm: number[];
}

export interface NoteBeatModelOptions {
  /** Folder with manifest.json and the ONNX file (default models/beats-notes). */
  modelDir?: string;
  intraOpNumThreads?: number;
}

export class NoteBeatModel {
  readonly manifest: NoteBeatModelManifest;
  readonly #session: InferenceSession;

  private constructor(manifest: NoteBeatModelManifest, session: InferenceSession) {
    this.manifest = manifest;
    this.#session = session;
  }

  static async create(opts: NoteBeatModelOptions = {}): Promise<NoteBeatModel> {
    const dir = opts.modelDir ?? modelPath('beats-notes');
    const { manifest, session } = await openBeatOnnx<NoteBeatModelManifest>(
      dir,
      (m) =>
        m.nbFeatures !== NOTE_BEAT_NB_FEATURES || !m.tempoOutput || !Array.isArray(m.tempoBpm)
          ? `Beat model ${dir} expects ${m.nbFeatures} features per note; this build computes ${NOTE_BEAT_NB_FEATURES} (and needs a tempo output).`
          : undefined,
      (m) => [m.output, m.tempoOutput],
      opts.intraOpNumThreads,
    );
    return new NoteBeatModel(manifest, session);
  }

  /** Beat, downbeat and tempo probabilities of every note (one run over the whole piece). */
  async noteProbabilities(notes: readonly Note[]): Promise<NoteBeatProbabilities> {
    const sorted = sortNotesForBeats(notes);
    const n = sorted.length;
    const tempoBpm = Float32Array.from(this.manifest.tempoBpm);
    const K = tempoBpm.length;
    if (n === 0) return { notes: sorted, beat: new Float32Array(0), downbeat: new Float32Array(0), tempoBpm, tempo: new Float32Array(0) };
    const ort = await import('onnxruntime-node');
    const input = new ort.Tensor('float32', noteBeatFeatures(sorted), [1, n, NOTE_BEAT_NB_FEATURES]);
    const result = await this.#session.run({ [this.manifest.input]: input });
    const out = result[this.manifest.output].data as Float32Array;
    const beat = new Float32Array(n);
    const downbeat = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      beat[i] = out[2 * i];
      downbeat[i] = out[2 * i + 1];
    }
    const tempo = (result[this.manifest.tempoOutput].data as Float32Array).slice(0, n * K);
    return { notes: sorted, beat, downbeat, tempoBpm, tempo };
  }

  /** Per-frame activations for the decoders (floor 0.02 where no note starts: chosen on the val pieces). */
  async activations(notes: readonly Note[]): Promise<BeatActivations> {
    return frameActivations(await this.noteProbabilities(notes), NOTE_BEAT_FPS, NOTE_BEAT_FLOOR);
  }

  async dispose(): Promise<void> {
    await this.#session.release();
  }
}

/** Activation where no note starts (bench/beatsTune.ts --grid floor, val fold). */
export const NOTE_BEAT_FLOOR = 0.02;

let shared: Promise<NoteBeatModel> | undefined;

/** The installed model, loaded once per process on first use. */
export function defaultNoteBeatModel(): Promise<NoteBeatModel> {
  shared ??= NoteBeatModel.create({ intraOpNumThreads: 1 }).catch((e: unknown) => {
    shared = undefined;
    throw e;
  });
  return shared;
}
