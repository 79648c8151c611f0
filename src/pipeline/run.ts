/**
 * The whole pipeline in one process: decode -> separate -> transcribe -> post-process -> encode.
 * Used by the CLI; the cloud runs the same stages one per function (see `stages.ts`).
 */
import type { InputLimits } from '../audio/limits.js';
import type { PostprocessOptions } from '../postprocess/index.js';
import type { SeparatorName } from '../separation/index.js';
import type { TranscriberName } from '../transcription/index.js';
import { transcriptionSource } from '../separation/stems.js';
import type { ModelInfo, Score, Stems, TranscribeOptions, Transcription } from '../types.js';
import { decodeStage, postprocessStage, separateStage, transcribeStage } from './stages.js';

export const PIPELINE_STAGES = ['decode', 'separate', 'transcribe', 'postprocess'] as const;
export type PipelineStage = (typeof PIPELINE_STAGES)[number];

export interface PipelineOptions {
  separator: SeparatorName;
  transcriber: TranscriberName;
  /** `'raw'` writes the model's notes unchanged. */
  postprocess: PostprocessOptions | 'raw';
  limits?: Partial<InputLimits>;
  /** Name written into the MIDI track. */
  trackName: string;
  /** False: notes released under the sustain pedal keep the ends the model heard (TranscribeOptions). */
  holdUnderPedal?: boolean;
}

export interface PipelineHooks {
  onStageStart?(stage: PipelineStage): void;
  onStageProgress?(stage: PipelineStage, fractionDone: number): void;
  onStageEnd?(stage: PipelineStage, elapsedSec: number): void;
}

export interface StageTiming {
  stage: PipelineStage;
  elapsedSec: number;
}

export interface PipelineResult {
  durationSec: number;
  /** Present unless separation was skipped. */
  stems?: Stems;
  /** The model's notes before post-processing. */
  transcription: Transcription;
  score: Score;
  midi: Uint8Array;
  models: { separator?: ModelInfo; transcriber: ModelInfo };
  timings: StageTiming[];
  warnings: string[];
}

export async function runPipeline(
  input: { bytes: Uint8Array; fileName: string },
  options: PipelineOptions,
  hooks: PipelineHooks = {},
): Promise<PipelineResult> {
  const timings: StageTiming[] = [];
  const timed = async <T>(stage: PipelineStage, work: () => Promise<T> | T): Promise<T> => {
    hooks.onStageStart?.(stage);
    const startMs = performance.now();
    const result = await work();
    const elapsedSec = (performance.now() - startMs) / 1000;
    timings.push({ stage, elapsedSec });
    hooks.onStageEnd?.(stage, elapsedSec);
    return result;
  };
  const progressFor = (stage: PipelineStage) => (f: number) => hooks.onStageProgress?.(stage, f);

  const decoded = await timed('decode', () => decodeStage(input.bytes, input.fileName, options.limits));

  let stems: Stems | undefined;
  let separatorInfo: ModelInfo | undefined;
  if (options.separator !== 'none') {
    const separated = await timed('separate', () =>
      separateStage(decoded.audio, options.separator, { onProgress: progressFor('separate') }),
    );
    stems = separated.stems;
    separatorInfo = separated.model;
  }

  // Without separation the input is taken to be a solo piano recording (what `--separator none` is for).
  // A stem comes with its mix, which the transcriber may also listen to (TranscribeOptions.mix).
  const pianoSource = stems ? transcriptionSource(stems).audio : decoded.audio;
  const transcribeOptions: TranscribeOptions = stems && separatorInfo
    ? { source: 'separated', mix: { audio: decoded.audio, separator: separatorInfo.name } }
    : { source: 'solo' };
  const holdUnderPedal = options.holdUnderPedal ?? true;
  const transcribed = await timed('transcribe', () =>
    transcribeStage(pianoSource, options.transcriber, { onProgress: progressFor('transcribe'), holdUnderPedal, ...transcribeOptions }),
  );

  const post = await timed('postprocess', () =>
    postprocessStage(transcribed.transcription, options.postprocess, options.trackName),
  );

  return {
    durationSec: decoded.durationSec,
    stems,
    transcription: transcribed.transcription,
    score: post.score,
    midi: post.midi,
    models: { separator: separatorInfo, transcriber: transcribed.model },
    timings,
    warnings: decoded.warnings,
  };
}
