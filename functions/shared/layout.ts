/**
 * Where things live in the two buckets, and how an upload maps to an execution. Pure functions
 * shared by the handlers, the CDK stack (prefixes for IAM, lifecycle rules and the event rule)
 * and the local cloud, so the three cannot drift apart.
 *
 * Input bucket:   uploads/<name>.<ext>                 (never written by the pipeline)
 * Output bucket:  results/<name>.mid                   the MIDI file
 *                 results/<name>.json                  manifest (status, timings, models)
 *                 results/<name>.stems/<stem>.wav      the stems (when separated; four, or five with piano)
 *                 results/<name>.error.json            error record (on failure only)
 *                 work/<execution name>/...            intermediates, expired by a lifecycle rule
 */
import { createHash } from 'node:crypto';
import { STEM_NAMES, type StemName } from '../../src/types.js';

export const UPLOAD_PREFIX = 'uploads/';
export const RESULTS_PREFIX = 'results/';
export const WORK_PREFIX = 'work/';
/** Lower-case audio suffixes the event rule accepts (upper-case variants are matched too). */
export const AUDIO_SUFFIXES = ['.wav', '.flac', '.mp3', '.ogg'] as const;

export const PIPELINE_STAGES = ['probe', 'separate', 'transcribe', 'postprocess'] as const;
export type CloudStage = (typeof PIPELINE_STAGES)[number];

/** `uploads/live/My Song.mp3` -> `live/My Song`: the name every output is written under. */
export function outputNameFor(key: string, uploadPrefix: string = UPLOAD_PREFIX): string {
  const relative = key.startsWith(uploadPrefix) ? key.slice(uploadPrefix.length) : key;
  const slash = relative.lastIndexOf('/');
  const dot = relative.lastIndexOf('.');
  const base = dot > slash + 1 ? relative.slice(0, dot) : relative;
  return base.length > 0 ? base : 'upload';
}

/**
 * Step Functions execution name for one upload: readable stem of the key plus a hash of
 * bucket, key and ETag. Standard workflows refuse a second execution with the same name (for
 * 90 days), which is what makes a duplicate event or a re-upload of identical bytes a no-op.
 * Names allow 80 characters; only [A-Za-z0-9-_] is kept so CloudWatch and X-Ray accept them.
 */
export function executionNameFor(bucket: string, key: string, etag: string): string {
  const cleanEtag = etag.replace(/"/g, '');
  const hash = createHash('sha256').update(`${bucket}\n${key}\n${cleanEtag}`).digest('hex').slice(0, 32);
  const readable = outputNameFor(key)
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return readable.length > 0 ? `${readable}-${hash}` : hash;
}

export function workPrefixFor(executionName: string): string {
  return `${WORK_PREFIX}${executionName}/`;
}

export const workKeys = (workPrefix: string) => ({
  /** The decoded input as float32 WAV, written by probe so later stages never re-decode. */
  audio: `${workPrefix}audio.wav`,
  stem: (stem: StemName) => `${workPrefix}stems/${stem}.wav`,
  /** What the transcriber reads when it is not one stem as is (other+piano from a five-stem separator). */
  transcribeSource: `${workPrefix}transcribe-source.wav`,
  notes: `${workPrefix}notes.json`,
  /** Per-stage record (timings, model info) that the manifest is assembled from. */
  record: (stage: CloudStage) => `${workPrefix}${stage}.json`,
  /** Written by the Batch entrypoint on failure: Batch cannot return a message to the workflow. */
  batchError: `${workPrefix}separate.error.json`,
});

export const resultKeys = (name: string) => ({
  midi: `${RESULTS_PREFIX}${name}.mid`,
  manifest: `${RESULTS_PREFIX}${name}.json`,
  error: `${RESULTS_PREFIX}${name}.error.json`,
  stem: (stem: StemName) => `${RESULTS_PREFIX}${name}.stems/${stem}.wav`,
});

export { STEM_NAMES };
