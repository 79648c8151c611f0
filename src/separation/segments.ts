/**
 * Running a fixed-length separation model over a song of any length, as demucs' `apply_model`
 * does with `split=True`: overlapping segments, each weighted by a triangular "transition"
 * window, overlap-added and divided by the summed weights.
 *
 * Memory stays bounded: the only song-length buffers are the output sources; one segment's input
 * and output exist at a time, and the weight normaliser is computed for one stride at a time
 * instead of being kept for the whole song.
 *
 * Port of demucs/apply.py (`apply_model`, `TensorChunk.padded`, `center_trim`), Meta, MIT.
 */
import { resampleAudio } from '../audio/resample.js';
import type { AudioData, StemName } from '../types.js';

/** One model call: it sees `segmentSamples` samples starting at `contextStartSample` (zeros outside
 * the song) and contributes its centre `lengthSamples` samples at `offsetSample`. */
export interface SegmentPlan {
  offsetSample: number;
  lengthSamples: number;
  /** Where the model's input window starts in the song; negative or past the end means zero padding. */
  contextStartSample: number;
  /** Index into the model's output where this segment's contribution starts (centre trim). */
  trimStartSample: number;
}

/**
 * Segments at offsets 0, stride, 2*stride, ... while the offset is inside the song, with
 * stride = floor((1 - overlap) * segmentSamples). A segment shorter than the model's window (the
 * last one) is centred in the window with real context on both sides, as demucs does.
 */
export function planSegments(totalSamples: number, segmentSamples: number, overlap: number): SegmentPlan[] {
  if (!Number.isInteger(segmentSamples) || segmentSamples < 2) throw new RangeError(`segmentSamples must be an integer >= 2, got ${segmentSamples}`);
  if (!(overlap >= 0 && overlap < 1)) throw new RangeError(`overlap must be in [0, 1), got ${overlap}`);
  const strideSamples = Math.max(1, Math.floor((1 - overlap) * segmentSamples));
  const plan: SegmentPlan[] = [];
  for (let offsetSample = 0; offsetSample < totalSamples; offsetSample += strideSamples) {
    const lengthSamples = Math.min(segmentSamples, totalSamples - offsetSample);
    const trimStartSample = Math.floor((segmentSamples - lengthSamples) / 2);
    plan.push({ offsetSample, lengthSamples, contextStartSample: offsetSample - trimStartSample, trimStartSample });
  }
  return plan;
}

/**
 * demucs' transition weight: a triangle 1..n/2, n-n/2..1, raised to `power`, scaled to a peak
 * of 1. Never zero, so every sample has a positive weight sum.
 */
export function transitionWeights(segmentSamples: number, power = 1): Float32Array {
  const half = Math.floor(segmentSamples / 2);
  const w = new Float32Array(segmentSamples);
  for (let i = 0; i < half; i++) w[i] = i + 1;
  for (let i = half; i < segmentSamples; i++) w[i] = segmentSamples - i;
  let max = 0;
  for (let i = 0; i < segmentSamples; i++) {
    w[i] = w[i] ** power;
    if (w[i] > max) max = w[i];
  }
  for (let i = 0; i < segmentSamples; i++) w[i] /= max;
  return w;
}

/**
 * Copies `lengthSamples` samples of each channel starting at `startSample` (may be negative or run
 * past the end: those samples are zero), mapping in-song samples through `(x - shift) / scale`.
 */
export function readWindow(
  channels: readonly Float32Array[],
  startSample: number,
  lengthSamples: number,
  shift = 0,
  scale = 1,
): Float32Array[] {
  return channels.map((src) => {
    const out = new Float32Array(lengthSamples);
    const from = Math.max(0, startSample);
    const to = Math.min(src.length, startSample + lengthSamples);
    const inv = 1 / scale;
    for (let i = from; i < to; i++) out[i - startSample] = (src[i] - shift) * inv;
    return out;
  });
}

/**
 * Weighted overlap-add into caller-owned outputs. Segments must be added in plan order; after
 * each one, the samples no later segment can touch are divided by their weight sum (and mapped
 * through `y * scale + shift`), so no song-length weight buffer is needed.
 */
export class OverlapAdd {
  readonly #outputs: readonly Float32Array[];
  readonly #plan: readonly SegmentPlan[];
  readonly #weights: Float32Array;
  readonly #shift: number;
  readonly #scale: number;
  #next = 0;
  #finalizedUpTo = 0;

  /**
   * @param outputs song-length channels to accumulate into (all sources x channels, flattened);
   *   they must start zeroed.
   */
  public constructor(
    outputs: readonly Float32Array[],
    plan: readonly SegmentPlan[],
    weights: Float32Array,
    options: { shift?: number; scale?: number } = {},
  ) {
    this.#outputs = outputs;
    this.#plan = plan;
    this.#weights = weights;
    this.#shift = options.shift ?? 0;
    this.#scale = options.scale ?? 1;
  }

  public get done(): boolean {
    return this.#next === this.#plan.length;
  }

  /**
   * Adds segment `index` (must be the next one in plan order). `chunk[j]` is the model's output
   * for output channel j over the whole model window; only its trimmed centre is used.
   */
  public add(index: number, chunk: readonly Float32Array[]): void {
    if (index !== this.#next) throw new Error(`OverlapAdd: expected segment ${this.#next}, got ${index}`);
    if (chunk.length !== this.#outputs.length) throw new Error(`OverlapAdd: expected ${this.#outputs.length} channels, got ${chunk.length}`);
    const seg = this.#plan[index];
    const w = this.#weights;
    for (let j = 0; j < chunk.length; j++) {
      const out = this.#outputs[j];
      const src = chunk[j];
      for (let t = 0; t < seg.lengthSamples; t++) out[seg.offsetSample + t] += w[t] * src[seg.trimStartSample + t];
    }
    this.#next++;
    const end = this.#next < this.#plan.length ? this.#plan[this.#next].offsetSample : (this.#outputs[0]?.length ?? 0);
    this.#finalize(this.#finalizedUpTo, end);
    this.#finalizedUpTo = end;
  }

  /** Divides [from, to) by the summed weights of the segments added so far that cover it. */
  #finalize(from: number, to: number): void {
    if (to <= from) return;
    const sum = new Float32Array(to - from);
    for (let k = this.#next - 1; k >= 0; k--) {
      const seg = this.#plan[k];
      const segEnd = seg.offsetSample + seg.lengthSamples;
      if (segEnd <= from) break; // offsets grow and lengths only shrink at the end: earlier ones end earlier
      const a = Math.max(from, seg.offsetSample);
      const b = Math.min(to, segEnd);
      for (let t = a; t < b; t++) sum[t - from] += this.#weights[t - seg.offsetSample];
    }
    const scale = this.#scale;
    const shift = this.#shift;
    for (const out of this.#outputs) {
      for (let t = from; t < to; t++) out[t] = (out[t] / sum[t - from]) * scale + shift;
    }
  }
}

/**
 * A model over one window: gets `channels` arrays of `segmentSamples` samples, returns
 * [source][channel] arrays of the same length.
 */
export type SegmentModel = (window: Float32Array[]) => Promise<Float32Array[][]>;

export interface ApplyInSegmentsOptions {
  segmentSamples: number;
  /** Fraction of a segment shared with the next one (demucs default 0.25). */
  overlap: number;
  sourceCount: number;
  /** Input normalisation (x - shift) / scale, undone on the outputs; demucs uses the mix's mean and std. */
  shift?: number;
  scale?: number;
  onProgress?: (fractionDone: number) => void;
}

/**
 * Runs `model` over the whole song in overlapping windows. Returns [source][channel] arrays at the
 * input's length.
 */
export async function applyInSegments(
  mix: readonly Float32Array[],
  model: SegmentModel,
  options: ApplyInSegmentsOptions,
): Promise<Float32Array[][]> {
  const { segmentSamples, overlap, sourceCount, shift = 0, scale = 1 } = options;
  const totalSamples = mix[0]?.length ?? 0;
  const channelCount = mix.length;
  const sources = Array.from({ length: sourceCount }, () => Array.from({ length: channelCount }, () => new Float32Array(totalSamples)));
  const plan = planSegments(totalSamples, segmentSamples, overlap);
  const ola = new OverlapAdd(sources.flat(), plan, transitionWeights(segmentSamples), { shift, scale });
  options.onProgress?.(0);
  for (let k = 0; k < plan.length; k++) {
    const window = readWindow(mix, plan[k].contextStartSample, segmentSamples, shift, scale);
    const out = await model(window);
    if (out.length !== sourceCount || out.some((s) => s.length !== channelCount)) {
      throw new Error(`segment model returned ${out.length} sources, expected ${sourceCount} x ${channelCount} channels`);
    }
    ola.add(k, out.flat());
    options.onProgress?.((k + 1) / plan.length);
  }
  return sources;
}

/** `src` as exactly `length` samples: itself when it fits, else a cut or zero-padded copy. */
export function fitLength(src: Float32Array, length: number): Float32Array {
  if (src.length === length) return src;
  const out = new Float32Array(length);
  out.set(src.length > length ? src.subarray(0, length) : src);
  return out;
}

/**
 * The model's stereo sources (at its own rate) -> stems in the input's format: its sample rate, its
 * exact length, and mono when the input was mono. Each source's buffers are released before the
 * next one is resampled, so a long song holds one extra stem at a time.
 */
export function stemsInInputFormat<N extends StemName>(
  names: readonly N[],
  sources: Float32Array[][],
  modelRateHz: number,
  input: { sampleRateHz: number; channels: number; samples: number },
): Record<N, AudioData> {
  const stems = {} as Record<N, AudioData>;
  names.forEach((name, s) => {
    let channels = sources[s];
    if (input.channels === 1) {
      const [l, r] = channels;
      const mono = new Float32Array(l.length);
      for (let i = 0; i < mono.length; i++) mono[i] = 0.5 * (l[i] + r[i]);
      channels = [mono];
    }
    sources[s] = [];
    let stem: AudioData = { sampleRateHz: modelRateHz, channels };
    if (input.sampleRateHz !== modelRateHz) stem = resampleAudio(stem, input.sampleRateHz);
    stems[name] = { sampleRateHz: input.sampleRateHz, channels: stem.channels.map((ch) => fitLength(ch, input.samples)) };
  });
  return stems;
}
