/**
 * Shared data types of the core library. Everything here is plain data over typed arrays so that
 * each pipeline stage is a pure function and can run in a CLI, a Lambda or a Batch job alike.
 */

/** Planar PCM audio: `channels[c][i]` is sample `i` of channel `c`, nominally in [-1, 1]. */
export interface AudioData {
  readonly sampleRateHz: number;
  /** [shape=(nb_channels, nb_samples)]; every channel has the same length. */
  readonly channels: readonly Float32Array[];
}

/** One transcribed or reference note. Times in seconds from the start of the audio. */
export interface Note {
  onsetSec: number;
  offsetSec: number;
  /** MIDI note number, 21 (A0) to 108 (C8) for piano. */
  pitchMidi: number;
  /** MIDI velocity 1..127. */
  velocity: number;
  /** Model confidence in [0, 1] (1 for reference notes). */
  confidence: number;
}

/** Sustain-pedal span (controller 64 held down), seconds. */
export interface PedalSpan {
  onsetSec: number;
  offsetSec: number;
}

/** The four stems every separator returns. */
export const STEM_NAMES = ['vocals', 'drums', 'bass', 'other'] as const;
/**
 * Stems a separator may add: `piano` (GM piano family) split out of `other`, which then holds the
 * rest. The transcriber reads `piano` when it is there (see separation/stems.ts).
 */
export const OPTIONAL_STEM_NAMES = ['piano'] as const;
export const ALL_STEM_NAMES = [...STEM_NAMES, ...OPTIONAL_STEM_NAMES] as const;
export type StemName = (typeof ALL_STEM_NAMES)[number];
export type Stems = Record<(typeof STEM_NAMES)[number], AudioData> & Partial<Record<(typeof OPTIONAL_STEM_NAMES)[number], AudioData>>;

/** Reports the fraction done of a stage, in [0, 1]. */
export type ProgressFn = (fractionDone: number) => void;

export interface StageOptions {
  onProgress?: ProgressFn;
}

export interface ModelInfo {
  /** Short id used on the command line, e.g. `htdemucs`, `basic-pitch`. */
  readonly name: string;
  /** Version string of the weights (package version or git-tracked model card version). */
  readonly version: string;
  /** SPDX id or short licence statement of the weights. */
  readonly license: string;
}

/** Splits a mix into the four stems (and optionally a piano stem), each at the input's length and sample rate. */
export interface Separator {
  readonly info: ModelInfo;
  separate(audio: AudioData, options?: StageOptions): Promise<Stems>;
  /** Releases native resources (ONNX sessions). */
  dispose?(): Promise<void>;
}

export interface Transcription {
  notes: Note[];
  /** Sustain-pedal spans where the model predicts them. */
  pedal?: PedalSpan[];
}

/**
 * What a transcriber hears: `solo`, a recording of the instrument alone (the pipeline with
 * separator `none`); `separated`, a stem a separator cut out of a mix. A model may decode the two
 * with different settings: a separated stem has weaker, smeared posteriors and leaked attacks.
 */
export type AudioSource = 'solo' | 'separated';

/** The unseparated mix a stem was cut from, and the separator that cut it. */
export interface SourceMix {
  audio: AudioData;
  /** The separator's name (`htdemucs`, `unmix`): how much piano its stems lose differs. */
  separator: string;
}

export interface TranscribeOptions extends StageOptions {
  /** Default `separated`, the product's path. */
  source?: AudioSource;
  /**
   * With a separated stem: the mix it came from. A transcriber may listen to both, since a stem
   * loses some of the piano with what it removes; one that cannot use it ignores it.
   */
  mix?: SourceMix;
  /**
   * Default true: notes released under the sustain pedal are held to the next note where the
   * model's decoding settings say so (their key release is silent). False keeps where the model
   * heard them fade.
   */
  holdUnderPedal?: boolean;
}

/** Turns (usually mono) audio into notes. */
export interface Transcriber {
  readonly info: ModelInfo;
  transcribe(audio: AudioData, options?: TranscribeOptions): Promise<Transcription>;
  dispose?(): Promise<void>;
}

/** A tempo change: from `timeSec` on, one beat lasts 60/bpm seconds. */
export interface TempoEvent {
  timeSec: number;
  bpm: number;
}

export interface TimeSignatureEvent {
  timeSec: number;
  numerator: number;
  denominator: number;
}

/** A key, e.g. `{ tonic: 'Eb', mode: 'major' }`; tonic spelled as in a key signature. */
export interface KeyEvent {
  timeSec: number;
  tonic: string;
  mode: 'major' | 'minor';
}

/** What post-processing returns: notes plus the musical context written into the MIDI file. */
export interface Score {
  notes: Note[];
  pedal?: PedalSpan[];
  tempos: TempoEvent[];
  timeSignatures: TimeSignatureEvent[];
  keys: KeyEvent[];
  /** Beat and downbeat times in seconds, when tracked (used for the piano-roll picture). */
  beatsSec?: number[];
  downbeatsSec?: number[];
}
