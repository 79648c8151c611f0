/**
 * `piano-ensemble`: stemscribe's piano model and basic-pitch, their posteriors averaged before
 * decoding (training/fusion.py does the same; the weights and thresholds come from the piano
 * model's manifest, chosen on rendered validation audio).
 *
 * Why two models: they err differently. Ours was trained on rendered pianos only and is precise
 * but misses notes of real recordings; basic-pitch learned from real recordings of many
 * instruments and finds more notes, and more wrong ones. Where both put some probability, the mean
 * crosses the threshold; where only one does, it mostly does not.
 *
 * Onset and frame (key down) posteriors are fused; offsets, velocities and the sustain pedal are
 * ours alone (basic-pitch has none of them).
 */
import { downmixToMono } from '../audio/channels.js';
import { resample } from '../audio/resample.js';
import { ModelError, StemscribeError } from '../errors.js';
import type { AudioData, ModelInfo, TranscribeOptions, Transcriber, Transcription } from '../types.js';
import { BasicPitchTranscriber, frameTimeSec, SAMPLE_RATE_HZ as BASIC_PITCH_RATE_HZ } from './basicPitch.js';
import { decodeNotes, decodePedal, fusionFor, PianoTranscriber, type Fusion, type PianoManifest, type PianoPosteriors } from './piano.js';

const STAGE = 'transcribe';

export type EnsembleConfig = NonNullable<PianoManifest['ensemble']>;

/**
 * Resamples a basic-pitch posteriorgram ([bpFrames, keys], frames centred at j * 256 / 22050 s)
 * onto the piano model's grid (frames centred at t * frameSec): each basic-pitch frame goes to the
 * nearest frame, and a frame that receives several keeps their maximum, so an onset peak is not
 * averaged away by its neighbours. Frames past `nFrames` are dropped.
 */
export function toPianoFrames(bp: Float32Array, bpFrames: number, keys: number, nFrames: number, frameSec: number): Float32Array {
  const out = new Float32Array(nFrames * keys);
  for (let j = 0; j < bpFrames; j++) {
    const t = Math.round(frameTimeSec(j) / frameSec);
    if (t >= nFrames) break;
    const src = j * keys;
    const dst = t * keys;
    for (let k = 0; k < keys; k++) if (bp[src + k] > out[dst + k]) out[dst + k] = bp[src + k];
  }
  return out;
}

/** `w * ours + (1 - w) * theirs`, element by element. */
function weightedMean(ours: Float32Array, theirs: Float32Array, w: number): Float32Array {
  const out = new Float32Array(ours.length);
  for (let i = 0; i < ours.length; i++) out[i] = w * ours[i] + (1 - w) * theirs[i];
  return out;
}

/** basic-pitch's posteriors for fusion: onset and note (frame), [frames, 88] each. */
export interface BasicPitchFrames {
  readonly frames: number;
  readonly onset: Float32Array;
  readonly note: Float32Array;
}

/** Our posteriors with onset and frame replaced by weighted means with basic-pitch's (the weights are ours). */
export function fusePosteriors(ours: PianoPosteriors, bp: BasicPitchFrames, config: Pick<Fusion, 'onsetWeight' | 'frameWeight'>, frameSec: number): PianoPosteriors {
  if (bp.onset.length !== bp.frames * ours.keys || bp.note.length !== bp.frames * ours.keys) {
    throw new ModelError(`basic-pitch posteriors are not [frames, ${ours.keys}].`, STAGE);
  }
  const onset = toPianoFrames(bp.onset, bp.frames, ours.keys, ours.frames, frameSec);
  const note = toPianoFrames(bp.note, bp.frames, ours.keys, ours.frames, frameSec);
  return {
    ...ours,
    onset: weightedMean(ours.onset, onset, config.onsetWeight),
    frame: weightedMean(ours.frame, note, config.frameWeight),
  };
}

export interface PianoEnsembleOptions {
  /** Folder of the piano model (default `<models>/piano`). */
  pianoModelDir?: string;
  /** onnxruntime intra-op threads for both networks. */
  intraOpNumThreads?: number;
}

export class PianoEnsembleTranscriber implements Transcriber {
  readonly info: ModelInfo;
  readonly #piano: PianoTranscriber;
  readonly #basicPitch: BasicPitchTranscriber;
  readonly #config: EnsembleConfig;

  private constructor(piano: PianoTranscriber, basicPitch: BasicPitchTranscriber, config: EnsembleConfig) {
    this.#piano = piano;
    this.#basicPitch = basicPitch;
    this.#config = config;
    this.info = {
      name: 'piano-ensemble',
      version: `${piano.info.version}+${basicPitch.info.version}`,
      license: `${piano.info.license}; basic-pitch: ${basicPitch.info.license}`,
    };
  }

  static async create(opts: PianoEnsembleOptions = {}): Promise<PianoEnsembleTranscriber> {
    const threads = opts.intraOpNumThreads !== undefined ? { intraOpNumThreads: opts.intraOpNumThreads } : {};
    const piano = await PianoTranscriber.create({ ...(opts.pianoModelDir ? { modelDir: opts.pianoModelDir } : {}), ...threads });
    const config = piano.manifest.ensemble;
    if (!config) {
      await piano.dispose();
      throw new ModelError(`The piano model ${piano.info.version} has no ensemble settings in its manifest; use --transcriber piano, or re-export it.`, STAGE);
    }
    let basicPitch: BasicPitchTranscriber;
    try {
      basicPitch = await BasicPitchTranscriber.create(threads);
    } catch (e) {
      await piano.dispose();
      throw e;
    }
    return new PianoEnsembleTranscriber(piano, basicPitch, config);
  }

  async transcribe(audio: AudioData, options?: TranscribeOptions): Promise<Transcription> {
    if (audio.channels.length === 0) throw new StemscribeError('Cannot transcribe audio with no channels.', STAGE);
    const mono = downmixToMono(audio).channels[0];
    const pianoRateHz = this.#piano.manifest.features.sampleRateHz;
    // Each network hears the input resampled once from its own rate, not from the other's.
    const forPiano = audio.sampleRateHz === pianoRateHz ? mono : resample(mono, audio.sampleRateHz, pianoRateHz);
    const ours = await this.#piano.posteriors(forPiano, (f) => options?.onProgress?.(0.5 * f));
    const forBasicPitch = audio.sampleRateHz === BASIC_PITCH_RATE_HZ ? mono : resample(mono, audio.sampleRateHz, BASIC_PITCH_RATE_HZ);
    const bp = await this.#basicPitch.posteriorgrams(forBasicPitch, { onProgress: (f) => options?.onProgress?.(0.5 + 0.5 * f) });
    const frameSec = this.#piano.frameSec;
    const fusion = fusionFor(this.#config, options?.source);
    const fused = fusePosteriors(ours, { frames: bp.nbFrames, onset: bp.onset, note: bp.note }, fusion, frameSec);
    const { minPitchMidi, thresholds } = this.#piano.manifest;
    const notes = decodeNotes(fused, frameSec, fusion.thresholds, minPitchMidi);
    if (!fused.pedal) return { notes };
    return { notes, pedal: decodePedal(fused.pedal, frameSec, thresholds.pedal ?? 0.5) };
  }

  async dispose(): Promise<void> {
    await Promise.all([this.#piano.dispose(), this.#basicPitch.dispose()]);
  }
}
