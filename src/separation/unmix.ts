/**
 * `unmix`: stemscribe's own separator, an open-unmix-style network trained by training/separation
 * on rendered multitracks (weights: our own, see models/unmix/MODEL_CARD.md). Its targets come
 * from the manifest: the four stems, and since 0.2 a fifth, `piano`, split out of `other`.
 *
 * Pipeline: downmix to stereo -> resample to the model's rate -> windows of `segmentSec` with
 * triangular overlap-add (segments.ts, bounded memory for long songs); per window: STFT (as
 * torch.stft: centred, reflect padding, periodic Hann, unnormalised) -> the ONNX network maps the
 * mix magnitude [frames, 2, bins] to target magnitudes [frames, targets, 2, bins] -> stereo Wiener
 * filtering (wiener.ts) -> iSTFT (as torch.istft) -> back to the input's rate, length and
 * channel count.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { toStereo } from '../audio/channels.js';
import { resampleAudio } from '../audio/resample.js';
import { ModelError, StemscribeError } from '../errors.js';
import { modelPath } from '../models/paths.js';
import type { AudioData, ModelInfo, Separator, StageOptions, StemName, Stems } from '../types.js';
import { ALL_STEM_NAMES, STEM_NAMES } from '../types.js';
import { fftInPlace, fftPlan } from '../dsp/fft.js';
import { applyInSegments, fitLength, stemsInInputFormat, type SegmentModel } from './segments.js';
import { wienerFilter, type ComplexSpec } from './wiener.js';

const STAGE = 'separate';

/** models/unmix/manifest.json: everything the pre/post-processing needs to match training. */
export interface UnmixManifest {
  name: string;
  version: string;
  license: string;
  file: string;
  sampleRateHz: number;
  nFft: number;
  hopSamples: number;
  bins: number;
  channels: 2;
  targets: StemName[];
  input: string;
  output: string;
  wienerIterations: number;
  segmentSec: number;
  overlap: number;
}

export interface UnmixOptions {
  /** onnxruntime intra-op threads; default: onnxruntime's choice. */
  intraOpNumThreads?: number;
  /** Model folder holding manifest.json; default `models/unmix` (or $STEMSCRIBE_MODELS_DIR/unmix). */
  modelDir?: string;
  /** Overrides the manifest's Wiener EM iterations (0 = magnitudes with the mix phase). */
  wienerIterations?: number;
  /** Overrides the manifest's window length, seconds. */
  segmentSec?: number;
  /**
   * Hand what the stems miss (the band above the model's Nyquist, Wiener's regulariser loss) back
   * to the stems, so they sum to the mix (default true). See `redistributeResidual`.
   */
  redistributeResidual?: boolean;
}

/** Block length for the residual weights, samples at the input rate (~23 ms at 44.1 kHz). */
const RESIDUAL_BLOCK_SAMPLES = 1024;

/**
 * Adds `mix - sum(stems)` to the stems in place, each stem's share following its high-frequency
 * energy (first-difference energy) per block, interpolated linearly between block centres. After
 * it the stems sum to the mix exactly. Why: a model at 22.05 kHz returns nothing above 11 kHz,
 * where a 44.1 kHz mix still holds cymbals, sibilance and "air"; the stem that is brightest just
 * below that band is the likeliest owner. Blocks where every stem is silent give the residual to
 * `fallback`.
 * @param stems [source][channel], same channel count and length as `mix`
 */
export function redistributeResidual(mix: readonly Float32Array[], stems: readonly (readonly Float32Array[])[], fallback: number, blockSamples = RESIDUAL_BLOCK_SAMPLES): void {
  const n = mix[0]?.length ?? 0;
  const sources = stems.length;
  const blocks = Math.ceil(n / blockSamples);
  if (blocks === 0) return;
  // weights[b * sources + j]
  const weights = new Float64Array(blocks * sources);
  for (let b = 0; b < blocks; b++) {
    const from = b * blockSamples;
    const to = Math.min(n, from + blockSamples);
    let total = 0;
    for (let j = 0; j < sources; j++) {
      let e = 0;
      for (const ch of stems[j]) {
        for (let i = Math.max(1, from); i < to; i++) {
          const d = ch[i] - ch[i - 1];
          e += d * d;
        }
      }
      weights[b * sources + j] = e;
      total += e;
    }
    for (let j = 0; j < sources; j++) weights[b * sources + j] = total > 0 ? weights[b * sources + j] / total : j === fallback ? 1 : 0;
  }
  const half = blockSamples / 2;
  for (let c = 0; c < mix.length; c++) {
    const x = mix[c];
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let j = 0; j < sources; j++) sum += stems[j][c][i];
      const r = x[i] - sum;
      if (r === 0) continue;
      // Position between block centres.
      const pos = Math.min(Math.max((i - half) / blockSamples, 0), blocks - 1);
      const b0 = Math.floor(pos);
      const b1 = Math.min(blocks - 1, b0 + 1);
      const a = pos - b0;
      for (let j = 0; j < sources; j++) {
        const w = (1 - a) * weights[b0 * sources + j] + a * weights[b1 * sources + j];
        stems[j][c][i] += w * r;
      }
    }
  }
}

/** Periodic Hann (torch.hann_window). */
function hann(size: number): Float64Array {
  const w = new Float64Array(size);
  for (let i = 0; i < size; i++) w[i] = 0.5 * (1 - Math.cos((2 * Math.PI * i) / size));
  return w;
}

/** Frames of torch.stft(center=True) for `lengthSamples`. */
export function stftFrameCount(lengthSamples: number, hopSamples: number): number {
  return 1 + Math.floor(lengthSamples / hopSamples);
}

const reflect = (p: number, n: number): number => (p < 0 ? -p : p >= n ? 2 * (n - 1) - p : p);

/**
 * STFT of a stereo pair as torch.stft(n_fft, hop, hann periodic, center=True, pad_mode='reflect',
 * onesided); both channels share one complex FFT (x0 + i x1).
 * @returns [left, right] frame-major spectrograms (frames x (nFft/2 + 1))
 */
export function stftStereo(left: Float32Array, right: Float32Array, nFft: number, hopSamples: number): [ComplexSpec, ComplexSpec] {
  const n = left.length;
  if (right.length !== n) throw new RangeError('stftStereo: channels differ in length');
  if (n <= nFft / 2) throw new RangeError(`stftStereo: ${n} samples are too few for reflect padding of ${nFft / 2}`);
  const bins = nFft / 2 + 1;
  const frames = stftFrameCount(n, hopSamples);
  const window = hann(nFft);
  const plan = fftPlan(nFft);
  const re = new Float64Array(nFft);
  const im = new Float64Array(nFft);
  const l: ComplexSpec = { re: new Float32Array(frames * bins), im: new Float32Array(frames * bins) };
  const r: ComplexSpec = { re: new Float32Array(frames * bins), im: new Float32Array(frames * bins) };
  const half = nFft / 2;
  for (let t = 0; t < frames; t++) {
    const start = t * hopSamples - half;
    for (let k = 0; k < nFft; k++) {
      const i = reflect(start + k, n);
      re[k] = left[i] * window[k];
      im[k] = right[i] * window[k];
    }
    fftInPlace(re, im, plan);
    const base = t * bins;
    for (let f = 0; f < bins; f++) {
      const g = f === 0 ? 0 : nFft - f;
      const a = re[f];
      const b = im[f];
      const c = re[g];
      const d = im[g];
      // X0 = (Z[f] + conj Z[N-f]) / 2, X1 = (Z[f] - conj Z[N-f]) / 2i
      l.re[base + f] = 0.5 * (a + c);
      l.im[base + f] = 0.5 * (b - d);
      r.re[base + f] = 0.5 * (b + d);
      r.im[base + f] = 0.5 * (c - a);
    }
  }
  return [l, r];
}

/**
 * Inverse of `stftStereo` as torch.istft(center=True, length): windowed overlap-add of the
 * inverse FFTs divided by the summed squared window, centre padding cut off.
 */
export function istftStereo(l: ComplexSpec, r: ComplexSpec, nFft: number, hopSamples: number, lengthSamples: number): [Float32Array, Float32Array] {
  const bins = nFft / 2 + 1;
  const frames = l.re.length / bins;
  const window = hann(nFft);
  const plan = fftPlan(nFft);
  const re = new Float64Array(nFft);
  const im = new Float64Array(nFft);
  const half = nFft / 2;
  const acc0 = new Float64Array(lengthSamples);
  const acc1 = new Float64Array(lengthSamples);
  const env = new Float64Array(lengthSamples);
  for (let t = 0; t < frames; t++) {
    const base = t * bins;
    // Z = X0 + i X1 on the full circle from the one-sided spectra (Hermitian symmetry); the
    // imaginary parts of DC and Nyquist are ignored, as irfft does.
    for (let f = 0; f < bins; f++) {
      const edge = f === 0 || f === half;
      const a = l.re[base + f];
      const b = edge ? 0 : l.im[base + f];
      const c = r.re[base + f];
      const d = edge ? 0 : r.im[base + f];
      re[f] = a - d;
      im[f] = b + c;
      if (f > 0 && f < half) {
        re[nFft - f] = a + d;
        im[nFft - f] = c - b;
      }
    }
    fftInPlace(re, im, plan, true);
    const start = t * hopSamples - half;
    const from = Math.max(0, -start);
    const to = Math.min(nFft, lengthSamples - start);
    for (let k = from; k < to; k++) {
      const w = window[k];
      acc0[start + k] += (re[k] / nFft) * w;
      acc1[start + k] += (im[k] / nFft) * w;
      env[start + k] += w * w;
    }
  }
  const out0 = new Float32Array(lengthSamples);
  const out1 = new Float32Array(lengthSamples);
  for (let i = 0; i < lengthSamples; i++) {
    const e = env[i] > 1e-11 ? env[i] : 1;
    out0[i] = acc0[i] / e;
    out1[i] = acc1[i] / e;
  }
  return [out0, out1];
}

/** Reads and checks models/unmix/manifest.json. */
export function readUnmixManifest(dir: string): UnmixManifest {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) {
    throw new ModelError(`The unmix model manifest ${path} is missing; reinstall stemscribe or re-run training/separation/export.py.`, STAGE);
  }
  let m: UnmixManifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as UnmixManifest;
  } catch (cause) {
    throw new ModelError(`The unmix model manifest ${path} is not valid JSON.`, STAGE, { cause });
  }
  const ok =
    Number.isInteger(m.sampleRateHz) && m.sampleRateHz > 0 &&
    Number.isInteger(m.nFft) && (m.nFft & (m.nFft - 1)) === 0 &&
    Number.isInteger(m.hopSamples) && m.hopSamples > 0 &&
    m.bins === m.nFft / 2 + 1 && m.channels === 2 &&
    Array.isArray(m.targets) && new Set(m.targets).size === m.targets.length &&
    m.targets.every((s) => (ALL_STEM_NAMES as readonly string[]).includes(s)) && STEM_NAMES.every((s) => m.targets.includes(s)) &&
    typeof m.file === 'string' && typeof m.input === 'string' && typeof m.output === 'string' &&
    m.segmentSec > 0 && m.overlap >= 0 && m.overlap < 1 && m.wienerIterations >= 0;
  if (!ok) throw new ModelError(`The unmix model manifest ${path} is incomplete or inconsistent.`, STAGE);
  return m;
}

/** The input as two channels at `rateHz`, holding no other copy (10-minute songs). */
function stereoAtRate(audio: AudioData, rateHz: number): Float32Array[] {
  const reduced = audio.channels.length > 2 ? toStereo(audio) : audio;
  const resampled = reduced.sampleRateHz === rateHz ? reduced : resampleAudio(reduced, rateHz);
  return [...toStereo(resampled).channels];
}

export class UnmixSeparator implements Separator {
  public readonly info: ModelInfo;
  public readonly manifest: UnmixManifest;
  readonly #session: InferenceSession;
  readonly #wienerIterations: number;
  readonly #segmentSamples: number;
  readonly #redistribute: boolean;

  private constructor(session: InferenceSession, manifest: UnmixManifest, opts: UnmixOptions) {
    this.#session = session;
    this.manifest = manifest;
    this.info = { name: 'unmix', version: manifest.version, license: manifest.license };
    this.#wienerIterations = opts.wienerIterations ?? manifest.wienerIterations;
    this.#segmentSamples = Math.round((opts.segmentSec ?? manifest.segmentSec) * manifest.sampleRateHz);
    this.#redistribute = opts.redistributeResidual ?? true;
    if (this.#segmentSamples <= manifest.nFft) throw new RangeError(`segmentSec is too short for the model's ${manifest.nFft}-point STFT`);
  }

  public static async create(opts: UnmixOptions = {}): Promise<UnmixSeparator> {
    const dir = opts.modelDir ?? modelPath('unmix');
    const manifest = readUnmixManifest(dir);
    const file = join(dir, manifest.file);
    if (!existsSync(file)) throw new ModelError(`The unmix model file ${file} is missing; reinstall stemscribe.`, STAGE);
    let session: InferenceSession;
    try {
      session = await InferenceSession.create(file, {
        ...(opts.intraOpNumThreads ? { intraOpNumThreads: opts.intraOpNumThreads } : {}),
        executionProviders: ['cpu'],
        logSeverityLevel: 3,
      });
    } catch (cause) {
      throw new ModelError(`The unmix model ${file} could not be loaded (corrupt or incomplete file?).`, STAGE, { cause });
    }
    if (!session.inputNames.includes(manifest.input) || !session.outputNames.includes(manifest.output)) {
      throw new ModelError(`${file} does not have the input '${manifest.input}' and output '${manifest.output}' its manifest names.`, STAGE);
    }
    return new UnmixSeparator(session, manifest, opts);
  }

  /** The network alone: mix magnitudes [frames, 2, bins] -> target magnitudes [frames, targets, 2, bins]. */
  public async targetMagnitudes(mixMag: Float32Array, frames: number): Promise<Float32Array> {
    const { bins, input, output, targets } = this.manifest;
    const results = await this.#session.run({ [input]: new Tensor('float32', mixMag, [frames, 2, bins]) });
    const out = results[output];
    const data = out.data;
    const expected = frames * targets.length * 2 * bins;
    if (!(data instanceof Float32Array) || data.length !== expected) {
      throw new ModelError(`unmix returned ${data.length} values, expected ${expected}`, STAGE);
    }
    return data;
  }

  /** One window: [left, right] -> [source (manifest order)][channel]. */
  readonly #runWindow: SegmentModel = async ([left, right]) => {
    const { nFft, hopSamples, bins } = this.manifest;
    const nt = this.manifest.targets.length;
    const n = left.length;
    const mix = stftStereo(left, right, nFft, hopSamples);
    const frames = mix[0].re.length / bins;
    const mixMag = new Float32Array(frames * 2 * bins);
    for (let t = 0; t < frames; t++) {
      for (let c = 0; c < 2; c++) {
        const s = mix[c];
        const o = (t * 2 + c) * bins;
        for (let f = 0; f < bins; f++) mixMag[o + f] = Math.hypot(s.re[t * bins + f], s.im[t * bins + f]);
      }
    }
    const est = await this.targetMagnitudes(mixMag, frames);
    // [frames, targets, 2, bins] -> [source][channel] frame-major
    const mags = Array.from({ length: nt }, (_, j) =>
      [0, 1].map((c) => {
        const m = new Float32Array(frames * bins);
        for (let t = 0; t < frames; t++) m.set(est.subarray(((t * nt + j) * 2 + c) * bins, ((t * nt + j) * 2 + c + 1) * bins), t * bins);
        return m;
      }),
    );
    const y = wienerFilter(mix, mags, bins, { iterations: this.#wienerIterations });
    return y.map(([l, r]) => istftStereo(l, r, nFft, hopSamples, n));
  };

  public async separate(audio: AudioData, options?: StageOptions): Promise<Stems> {
    const onProgress = options?.onProgress;
    const { sampleRateHz: modelRateHz, targets } = this.manifest;
    const inputRateHz = audio.sampleRateHz;
    const inputSamples = audio.channels[0]?.length ?? 0;
    const inputChannels = audio.channels.length;
    if (inputChannels === 0) throw new StemscribeError('Cannot separate audio with no channels.', STAGE);
    onProgress?.(0);
    let [left, right] = stereoAtRate(audio, modelRateHz);
    const n = left.length;
    let silent = true;
    for (let i = 0; i < n && silent; i++) if (left[i] !== 0 || right[i] !== 0) silent = false;

    let sources: Float32Array[][];
    if (silent || n === 0) {
      sources = targets.map(() => [new Float32Array(n), new Float32Array(n)]);
    } else {
      // The STFT needs more than nFft/2 samples for reflect padding: pad very short inputs with zeros.
      const minSamples = this.manifest.nFft + 1;
      const padded = n < minSamples;
      const l = padded ? fitLength(left, minSamples) : left;
      const r = padded ? fitLength(right, minSamples) : right;
      // A song that fits in one window is one window (no overlap: half the work for 30 s clips).
      const fits = l.length <= this.#segmentSamples;
      const segmentSamples = fits ? l.length : this.#segmentSamples;
      sources = await applyInSegments([l, r], this.#runWindow, {
        segmentSamples,
        overlap: fits ? 0 : this.manifest.overlap,
        sourceCount: targets.length,
        onProgress: onProgress ? (f) => onProgress(0.95 * f) : undefined,
      });
      if (padded) sources = sources.map((chs) => chs.map((c) => c.slice(0, n)));
    }
    // Let go of the model-rate mix before the stems are resampled (10-minute songs).
    left = new Float32Array(0);
    right = new Float32Array(0);

    const stems = stemsInInputFormat(targets, sources, modelRateHz, { sampleRateHz: inputRateHz, channels: inputChannels, samples: inputSamples });
    if (this.#redistribute && !silent) {
      const reference = inputChannels > 2 ? toStereo(audio).channels : audio.channels;
      redistributeResidual(reference, targets.map((k) => stems[k].channels), targets.indexOf('other'));
    }
    onProgress?.(1);
    const { vocals, drums, bass, other } = stems as Record<(typeof STEM_NAMES)[number], AudioData>;
    return { vocals, drums, bass, other, ...(stems.piano ? { piano: stems.piano } : {}) };
  }

  public async dispose(): Promise<void> {
    await this.#session.release();
  }
}

/** Folder of the shipped model (for tools that want to print where it is). */
export function unmixModelDir(): string {
  return dirname(modelPath('unmix', 'manifest.json'));
}
