/**
 * What travels in the Step Functions state. Only S3 keys and small metadata: the state is
 * limited to 256 KB, and audio never passes through it.
 */
import type { ModelInfo, StemName } from '../../src/types.js';
import type { CloudStage } from './layout.js';

/** The execution input, built by the start function from the S3 "Object Created" event. */
export interface JobInput {
  /** Input bucket and object that triggered the run. */
  bucket: string;
  key: string;
  /** ETag without quotes. */
  etag: string;
  sizeBytes: number;
  /** Output name: results are written under `results/<name>.*`. */
  name: string;
  /** `work/<execution name>/`: intermediates of this run in the output bucket. */
  workPrefix: string;
}

export interface ProbeResult {
  durationSec: number;
  sampleRateHz: number;
  channelCount: number;
  warnings: string[];
}

export interface SeparateResult {
  /** Key of the audio the transcriber reads: the `other` stem, or the mix when not separated. */
  transcribeSourceKey: string;
  model: ModelInfo | null;
}

export interface TranscribeResult {
  notesKey: string;
  noteCount: number;
  model: ModelInfo;
}

export interface PostprocessResult {
  midiKey: string;
  manifestKey: string;
  noteCount: number;
}

/** The state after each stage has put its result at `$.<stage>`. */
export interface PipelineState extends JobInput {
  probe?: ProbeResult;
  separate?: unknown;
  transcribe?: TranscribeResult;
}

/** What a Catch puts at `$.error`. */
export interface CaughtError {
  Error: string;
  Cause?: string;
}

export interface FailureEvent extends PipelineState {
  failedStage: CloudStage;
  error: CaughtError;
}

export interface FailureResult {
  /** Becomes the execution's error name (Fail state ErrorPath). */
  error: string;
  /** Becomes the execution's cause (Fail state CausePath): the reason a user can act on. */
  cause: string;
  errorKey: string;
}

/** Written by each stage to `work/<exec>/<stage>.json`; the manifest is assembled from these. */
export interface StageRecord {
  stage: CloudStage;
  startedAt: string;
  elapsedSec: number;
  model?: ModelInfo | null;
  /** Stage-specific details (duration, note count, stem keys, ...). */
  details?: Record<string, unknown>;
}

export interface SeparateRecord extends StageRecord {
  stage: 'separate';
  transcribeSourceKey: string;
  /** Present when the mix was separated. */
  stemKeys?: Partial<Record<StemName, string>>;
}

export interface ErrorRecord {
  status: 'failed';
  stage: CloudStage;
  /** Error name, e.g. `InputError`, `States.Timeout`. */
  error: string;
  /** Stable code when the error carries one (e.g. `NOT_AUDIO`). */
  code?: string;
  /** What went wrong and what to do about it. */
  reason: string;
  /** Re-running can help (transient infrastructure trouble) or cannot (the input is the problem). */
  retryable: boolean;
  input: { bucket: string; key: string; etag: string };
  execution: string;
  failedAt: string;
}

export interface Manifest {
  status: 'succeeded';
  input: { bucket: string; key: string; etag: string; sizeBytes: number };
  execution: string;
  durationSec: number;
  noteCount: number;
  outputs: { midi: string; stems: Partial<Record<StemName, string>> };
  models: { separator: ModelInfo | null; transcriber: ModelInfo | null };
  timings: { stage: CloudStage; startedAt: string; elapsedSec: number }[];
  warnings: string[];
  createdAt: string;
}
