/**
 * The pipeline's stages as pure-ish functions over plain data. The CLI runs them in one process
 * (`run.ts`); the cloud runs each in its own Lambda/Batch job and passes S3 keys between them, so
 * every stage's input and output here has a byte serialization (WAV for audio, JSON for notes).
 */
import { decodeAudio } from '../audio/decode.js';
import { downmixToMono } from '../audio/channels.js';
import { isSilent } from '../audio/level.js';
import type { InputLimits } from '../audio/limits.js';
import { encodeMidi } from '../midi/encode.js';
import { postprocessAsync, type PostprocessOptions } from '../postprocess/index.js';
import { createSeparator, type SeparatorName, type SeparatorOptions } from '../separation/index.js';
import { createTranscriber, type TranscriberName, type TranscriberOptions } from '../transcription/index.js';
import type { AudioData, ModelInfo, Score, StageOptions, Stems, TranscribeOptions, Transcription } from '../types.js';

export interface DecodedInput {
  audio: AudioData;
  durationSec: number;
  warnings: string[];
}

/** Decode and validate. Throws `InputError` with a user-actionable message on bad input. */
export async function decodeStage(
  bytes: Uint8Array,
  fileName: string,
  limits?: Partial<InputLimits>,
): Promise<DecodedInput> {
  const audio = await decodeAudio(bytes, { fileName, limits });
  const durationSec = (audio.channels[0]?.length ?? 0) / audio.sampleRateHz;
  const warnings: string[] = [];
  if (isSilent(audio)) warnings.push(`${fileName}: the audio is silent; the MIDI file will have no notes.`);
  return { audio, durationSec, warnings };
}

export interface SeparationResult {
  stems: Stems;
  model: ModelInfo;
}

export async function separateStage(
  audio: AudioData,
  separatorName: SeparatorName,
  options?: StageOptions,
  /** Execution provider and threads (the cloud's GPU job asks for CUDA). */
  separatorOptions?: SeparatorOptions,
): Promise<SeparationResult> {
  const separator = await createSeparator(separatorName, separatorOptions);
  try {
    const stems = await separator.separate(audio, options);
    return { stems, model: separator.info };
  } finally {
    await separator.dispose?.();
  }
}

export interface TranscriptionResult {
  transcription: Transcription;
  model: ModelInfo;
}

/**
 * Transcribes a (mono or stereo) signal; stereo is downmixed first. `options.source` says whether
 * it is a separated stem (the default) or a solo recording, which the piano models decode differently.
 */
export async function transcribeStage(
  audio: AudioData,
  transcriberName: TranscriberName,
  options?: TranscribeOptions,
  transcriberOptions?: TranscriberOptions,
): Promise<TranscriptionResult> {
  const transcriber = await createTranscriber(transcriberName, transcriberOptions);
  try {
    const transcription = await transcriber.transcribe(downmixToMono(audio), options);
    return { transcription, model: transcriber.info };
  } finally {
    await transcriber.dispose?.();
  }
}

export interface PostprocessResult {
  score: Score;
  midi: Uint8Array;
}

/**
 * `options === 'raw'` skips all musical clean-up and writes the model's notes as they are.
 * Async because the learned beat tracker runs an ONNX model (it falls back to the hand-made one
 * where the model cannot load).
 */
export async function postprocessStage(
  transcription: Transcription,
  options: PostprocessOptions | 'raw',
  trackName: string,
): Promise<PostprocessResult> {
  const score = await postprocessAsync(transcription, options);
  return { score, midi: encodeMidi(score, { trackName }) };
}
