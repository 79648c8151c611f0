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
 * ours alone (basic-pitch has none of them). Where the manifest names an onset head, a small
 * network over both models' posteriors gives the onset posterior instead of the mean (OnsetHead).
 * A separated stem can also be blended with the mix it came from (blendWithMix), with a weight per
 * separator from the manifest, and for a separator with a mix head, the head reads both signals'
 * posteriors and gives the onsets (mixHeadOnset).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { downmixToMono } from '../audio/channels.js';
import { resample } from '../audio/resample.js';
import { ModelError, StemscribeError } from '../errors.js';
import { modelPath } from '../models/paths.js';
import type { AudioData, AudioSource, ModelInfo, TranscribeOptions, Transcriber, Transcription } from '../types.js';
import { BasicPitchTranscriber, frameTimeSec, SAMPLE_RATE_HZ as BASIC_PITCH_RATE_HZ } from './basicPitch.js';
import { callerDecoding, decodeTranscription, fusionFor, PianoTranscriber, type Fusion, type PianoManifest, type PianoPosteriors } from './piano.js';

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

/** One signal's posteriors from both networks, on our frames: what an onset head reads. */
export interface HeardPosteriors {
  readonly ours: PianoPosteriors;
  /** basic-pitch's onset and note posteriors on our frames ([ours.frames, keys] each). */
  readonly bpOnset: Float32Array;
  readonly bpNote: Float32Array;
}

/** basic-pitch's onset and note posteriors on our frames ([ours.frames, keys] each). */
function onPianoFrames(ours: PianoPosteriors, bp: BasicPitchFrames, frameSec: number): { onset: Float32Array; note: Float32Array } {
  if (bp.onset.length !== bp.frames * ours.keys || bp.note.length !== bp.frames * ours.keys) {
    throw new ModelError(`basic-pitch posteriors are not [frames, ${ours.keys}].`, STAGE);
  }
  return {
    onset: toPianoFrames(bp.onset, bp.frames, ours.keys, ours.frames, frameSec),
    note: toPianoFrames(bp.note, bp.frames, ours.keys, ours.frames, frameSec),
  };
}

/** Our posteriors with onset and frame replaced by weighted means with basic-pitch's (the weights are ours). */
export function fusePosteriors(ours: PianoPosteriors, bp: BasicPitchFrames, config: Pick<Fusion, 'onsetWeight' | 'frameWeight'>, frameSec: number): PianoPosteriors {
  const { onset, note } = onPianoFrames(ours, bp, frameSec);
  return fuseHeard({ ours, bpOnset: onset, bpNote: note }, config);
}

/** `fusePosteriors` on posteriors already on our frames; `onset` (an onset head's) replaces the onset mean. */
function fuseHeard(heard: HeardPosteriors, config: Pick<Fusion, 'onsetWeight' | 'frameWeight'>, onset?: Float32Array): PianoPosteriors {
  const { ours, bpOnset, bpNote } = heard;
  return {
    ...ours,
    onset: onset ?? weightedMean(ours.onset, bpOnset, config.onsetWeight),
    frame: weightedMean(ours.frame, bpNote, config.frameWeight),
  };
}

/**
 * A separated stem's fused posteriors with the unseparated mix's (fused as a solo recording is)
 * averaged in: onset and frame are `(1 - mixWeight) x stem + mixWeight x mix`; offsets, velocities
 * and the pedal stay the stem's.
 * Why: a separator removes some of the piano with the band (more so a small one), and what it
 * removed is still in the mix, while the band's notes, which the stem no longer has, are in the
 * mix alone, so a low weight on the mix restores lost notes more than it adds the band's. Frames
 * past the end of the mix's posteriors (a separator may pad) keep the stem's values.
 */
export function blendWithMix(stem: PianoPosteriors, mix: PianoPosteriors, mixWeight: number): PianoPosteriors {
  if (stem.keys !== mix.keys) throw new ModelError(`Cannot blend posteriors of ${stem.keys} and ${mix.keys} keys.`, STAGE);
  const blend = (a: Float32Array, b: Float32Array): Float32Array => {
    const out = Float32Array.from(a);
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) out[i] = (1 - mixWeight) * a[i] + mixWeight * b[i];
    return out;
  };
  return { ...stem, onset: blend(stem.onset, mix.onset), frame: blend(stem.frame, mix.frame) };
}

/** A [frames', keys] posteriorgram cut or zero-padded to `frames` frames (a separator may pad the stem). */
function fitFrames(x: Float32Array, frames: number, keys: number): Float32Array {
  if (x.length === frames * keys) return x;
  const out = new Float32Array(frames * keys);
  out.set(x.subarray(0, Math.min(x.length, out.length)));
  return out;
}

/**
 * A mix head's onset posterior [frames, keys] for a stem and the mix it was separated from: the
 * head reads the stem's ONSET_HEAD_CHANNELS, then the mix's, then (a head of three signals) the
 * separator's piano stem's, fitted to the stem's frames.
 */
export async function mixHeadOnset(
  head: OnsetHead,
  stem: HeardPosteriors,
  mix: HeardPosteriors,
  frames: number,
  keys: number,
  pianoStem?: HeardPosteriors,
): Promise<Float32Array> {
  const others = pianoStem ? [mix, pianoStem] : [mix];
  if (head.signals !== undefined && head.signals !== 1 + others.length) {
    throw new ModelError(`This mix head reads ${head.signals} signals; it was given ${1 + others.length}.`, STAGE);
  }
  return head.run([...headInputs(stem), ...others.flatMap((h) => headInputs(h).map((x) => fitFrames(x, frames, keys)))], frames, keys);
}

/**
 * Frames of context each side of a chunk: at least the receptive field of every head (6 frames:
 * kernels 5, 3, 3, 5; 26 with onset_head.py's `--long-context`). More context than a head needs
 * changes nothing, so one value serves them all.
 */
export const ONSET_HEAD_RECEPTIVE_FRAMES = 32;
const ONSET_HEAD_CHUNK_FRAMES = 1000;
/** The head's input channels per signal, in order: ours (onset, frame, offset), basic-pitch's (onset, note). */
export const ONSET_HEAD_CHANNELS = 5;

/**
 * The onset head of training/onset_head.py: [1, 5, frames, keys] posteriors (our onset, frame and
 * offset, basic-pitch's onset and note on our frames) -> [1, frames, keys] onset posterior. Why:
 * the mean fusion weighs every key and frame alike, while the two models' errors depend on the
 * register (our bass onsets are weak), on octave and twelfth neighbours (partials) and on a frame
 * or two of disagreement in time; the head sees that context. Run in chunks with the receptive
 * field as context, which gives the values of one run over the whole recording.
 */
export class OnsetHead {
  readonly #session: InferenceSession;
  /**
   * The signals the head reads (its input channels / ONSET_HEAD_CHANNELS): 1 the onset head; 2 a
   * mix head over stem and mix; 3 one that also reads a five-stem separator's piano stem
   * (onset_head.py --piano-stem; evaluated by training/mix-weight.ts, not shipped). Undefined where
   * the file does not fix its channel count.
   */
  readonly signals: number | undefined;

  private constructor(session: InferenceSession) {
    this.#session = session;
    const meta = session.inputMetadata.find((m) => m.name === 'posteriors');
    const channels = meta?.isTensor ? meta.shape[1] : undefined;
    this.signals = typeof channels === 'number' ? channels / ONSET_HEAD_CHANNELS : undefined;
  }

  static async create(file: string, intraOpNumThreads?: number): Promise<OnsetHead> {
    if (!existsSync(file)) throw new ModelError(`Onset head ${file} not found; reinstall stemscribe or set STEMSCRIBE_MODELS_DIR.`, STAGE);
    let session: InferenceSession;
    try {
      session = await InferenceSession.create(file, { executionProviders: ['cpu'], ...(intraOpNumThreads ? { intraOpNumThreads } : {}) });
    } catch (e) {
      throw new ModelError(`Onset head ${file} could not be loaded (corrupt or incompatible file).`, STAGE, { cause: e });
    }
    if (!session.inputNames.includes('posteriors') || !session.outputNames.includes('onset')) {
      await session.release();
      throw new ModelError(`Onset head ${file} does not have the tensors 'posteriors' -> 'onset'.`, STAGE);
    }
    return new OnsetHead(session);
  }

  /**
   * `inputs`: ONSET_HEAD_CHANNELS arrays of [frames, keys] per signal the head was trained on (one
   * for the onset head, two, stem then mix, for a mix head) -> the onset posterior [frames, keys].
   */
  async run(inputs: readonly Float32Array[], frames: number, keys: number, chunkFrames = ONSET_HEAD_CHUNK_FRAMES): Promise<Float32Array> {
    const channels = inputs.length;
    if (channels === 0 || channels % ONSET_HEAD_CHANNELS !== 0 || inputs.some((x) => x.length !== frames * keys)) {
      throw new ModelError(`Onset head inputs are not a multiple of ${ONSET_HEAD_CHANNELS} x [${frames}, ${keys}].`, STAGE);
    }
    const out = new Float32Array(frames * keys);
    for (let core = 0; core < frames; core += chunkFrames) {
      const a = Math.max(0, core - ONSET_HEAD_RECEPTIVE_FRAMES);
      const b = Math.min(frames, core + chunkFrames + ONSET_HEAD_RECEPTIVE_FRAMES);
      const e = Math.min(frames, core + chunkFrames);
      const width = (b - a) * keys;
      const x = new Float32Array(channels * width);
      inputs.forEach((ch, c) => x.set(ch.subarray(a * keys, b * keys), c * width));
      const res = await this.#session.run({ posteriors: new Tensor('float32', x, [1, channels, b - a, keys]) });
      const t = res.onset;
      if (!t || !(t.data instanceof Float32Array)) throw new ModelError("Onset head returned no float32 'onset' output.", STAGE);
      out.set(t.data.subarray((core - a) * keys, (e - a) * keys), core * keys);
      t.dispose();
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.#session.release();
  }
}

/** The ONSET_HEAD_CHANNELS inputs an onset head reads for one signal, in its order. */
export function headInputs(heard: HeardPosteriors): Float32Array[] {
  return [heard.ours.onset, heard.ours.frame, heard.ours.offset, heard.bpOnset, heard.bpNote];
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
  /** Onset heads by file name, for the fusion profiles and mix heads that name one. */
  readonly #heads: ReadonlyMap<string, OnsetHead>;

  private constructor(piano: PianoTranscriber, basicPitch: BasicPitchTranscriber, config: EnsembleConfig, heads: ReadonlyMap<string, OnsetHead>) {
    this.#piano = piano;
    this.#basicPitch = basicPitch;
    this.#config = config;
    this.#heads = heads;
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
    const dir = opts.pianoModelDir ?? modelPath('piano');
    const heads = new Map<string, OnsetHead>();
    let basicPitch: BasicPitchTranscriber;
    try {
      const mixHeadFiles = Object.values(config.mixHeads ?? {}).map((h) => h.file);
      for (const file of new Set([config.onsetHead, config.solo?.onsetHead, ...mixHeadFiles])) {
        if (file !== undefined) heads.set(file, await OnsetHead.create(join(dir, file), opts.intraOpNumThreads));
      }
      basicPitch = await BasicPitchTranscriber.create(threads);
    } catch (e) {
      await Promise.all([piano.dispose(), ...[...heads.values()].map((h) => h.dispose())]);
      throw e;
    }
    return new PianoEnsembleTranscriber(piano, basicPitch, config, heads);
  }

  async transcribe(audio: AudioData, options?: TranscribeOptions): Promise<Transcription> {
    if (audio.channels.length === 0) throw new StemscribeError('Cannot transcribe audio with no channels.', STAGE);
    const mixWeight = this.mixWeightFor(options);
    const mixHead = this.mixHeadFor(options);
    // Only a mix with a weight or a mix head is listened to.
    const mix = mixWeight > 0 || mixHead ? options?.mix : undefined;
    const progress = (from: number, span: number) => (f: number): void => options?.onProgress?.(from + span * f);
    const stem = await this.heard(audio, progress(0, mix ? 0.5 : 1));
    let fused = await this.fuse(stem, options?.source);
    if (!mix) return this.decode(fused, options);
    // The mix is heard as an unseparated recording is (`--separator none`): the solo fusion, with
    // its onset head. On the tuning sets that beat the separated fusion for unmix (64.8 -> 68.3
    // onset F1) and tied for htdemucs (79.6), at a lower weight.
    const heardMix = await this.heard(mix.audio, progress(0.5, 0.5));
    // With a mix head the blend gives only the key-down posterior (the head gives the onsets), so
    // the mix's own onset head would run for nothing: its onsets stay the plain mean.
    const mixFused = mixHead ? fuseHeard(heardMix, fusionFor(this.#config, 'solo')) : await this.fuse(heardMix, 'solo');
    fused = blendWithMix(fused, mixFused, mixWeight);
    if (!mixHead) return this.decode(fused, options);
    const onset = await mixHeadOnset(mixHead.head, stem, heardMix, fused.frames, fused.keys);
    return this.decode({ ...fused, onset }, options, mixHead.onsetThreshold);
  }

  /**
   * Fused posteriors -> notes (and pedal spans), with the decoding settings for `options.source`
   * (and its `holdUnderPedal`); `onsetThreshold` overrides theirs (a mix head's onsets have their own).
   */
  decode(fused: PianoPosteriors, options?: Pick<TranscribeOptions, 'source' | 'holdUnderPedal'>, onsetThreshold?: number): Transcription {
    const frameSec = this.#piano.frameSec;
    const { minPitchMidi, thresholds } = this.#piano.manifest;
    const settings = callerDecoding(fusionFor(this.#config, options?.source).thresholds, options);
    const decoding = onsetThreshold === undefined ? settings : { ...settings, onset: onsetThreshold };
    return decodeTranscription(fused, frameSec, decoding, minPitchMidi, thresholds.pedal ?? 0.5);
  }

  /** The weight of the mix for a separated stem (0: the stem alone): the manifest's, per separator. */
  mixWeightFor(options?: TranscribeOptions): number {
    if (options?.source === 'solo' || !options?.mix) return 0;
    return this.#config.mixWeights?.[options.mix.separator] ?? 0;
  }

  /** The mix head for a separated stem and its onset threshold, where the manifest has one for its separator. */
  mixHeadFor(options?: TranscribeOptions): { head: OnsetHead; onsetThreshold: number } | undefined {
    if (options?.source === 'solo' || !options?.mix) return undefined;
    const entry = this.#config.mixHeads?.[options.mix.separator];
    const head = entry ? this.#heads.get(entry.file) : undefined;
    return entry && head ? { head, onsetThreshold: entry.onset } : undefined;
  }

  /** Both networks' posteriors for one signal, on our frames, before fusion. */
  async heard(audio: AudioData, onProgress: (f: number) => void = () => {}): Promise<HeardPosteriors> {
    const mono = downmixToMono(audio).channels[0];
    const pianoRateHz = this.#piano.manifest.features.sampleRateHz;
    // Each network hears the input resampled once from its own rate, not from the other's.
    const forPiano = audio.sampleRateHz === pianoRateHz ? mono : resample(mono, audio.sampleRateHz, pianoRateHz);
    const ours = await this.#piano.posteriors(forPiano, (f) => onProgress(0.5 * f));
    const forBasicPitch = audio.sampleRateHz === BASIC_PITCH_RATE_HZ ? mono : resample(mono, audio.sampleRateHz, BASIC_PITCH_RATE_HZ);
    const bp = await this.#basicPitch.posteriorgrams(forBasicPitch, { onProgress: (f) => onProgress(0.5 + 0.5 * f) });
    const { onset, note } = onPianoFrames(ours, { frames: bp.nbFrames, onset: bp.onset, note: bp.note }, this.#piano.frameSec);
    return { ours, bpOnset: onset, bpNote: note };
  }

  /** One signal's posteriors fused as the manifest says for `source` (with its onset head, if it names one). */
  async fuse(heard: HeardPosteriors, source?: AudioSource): Promise<PianoPosteriors> {
    const fusion = fusionFor(this.#config, source);
    const head = fusion.onsetHead !== undefined ? this.#heads.get(fusion.onsetHead) : undefined;
    return fuseHeard(heard, fusion, head ? await head.run(headInputs(heard), heard.ours.frames, heard.ours.keys) : undefined);
  }

  /** Both networks' posteriors for one signal, fused as the manifest says for `source` (before decoding). */
  async fusedPosteriors(audio: AudioData, source?: AudioSource, onProgress: (f: number) => void = () => {}): Promise<PianoPosteriors> {
    return this.fuse(await this.heard(audio, onProgress), source);
  }

  async dispose(): Promise<void> {
    await Promise.all([this.#piano.dispose(), this.#basicPitch.dispose(), ...[...this.#heads.values()].map((h) => h.dispose())]);
  }
}
