/**
 * The synthesized stack running in the local cloud: real S3 protocol (s3rver on 127.0.0.1), the
 * template's EventBridge rule and state machine, the real handlers. Separation is the deployed
 * default (AWS Batch `.sync`, emulated in-process) with the `none` separator so that this file
 * stays fast; `separation-e2e.test.ts` runs htdemucs.
 */
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Midi } from '@tonejs/midi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionNameFor, workKeys, workPrefixFor } from '../../functions/shared/layout.js';
import type { ErrorRecord, Manifest, StageRecord } from '../../functions/shared/types.js';
import { S3_MAX_ATTEMPTS } from '../../functions/shared/storage.js';
import { startLocalCloud, type LocalCloud, type LocalExecution } from '../../localcloud/index.js';
import { shortSongWav } from './fixtures.js';

let cloud: LocalCloud;
let s3: S3Client;

beforeAll(async () => {
  cloud = await startLocalCloud({
    synth: { config: { separator: 'none' } },
    // Two cores shared with other work: one onnxruntime thread per function.
    functionEnv: { ORT_INTRA_OP_THREADS: '1' },
  });
  s3 = cloud.client();
});

afterAll(async () => {
  s3?.destroy();
  await cloud?.stop();
});

async function upload(key: string, body: Uint8Array): Promise<{ key: string; etag: string; execution?: LocalExecution }> {
  const put = await s3.send(new PutObjectCommand({ Bucket: cloud.inputBucket, Key: key, Body: body }));
  const etag = (put.ETag ?? '').replace(/"/g, '');
  return { key, etag, execution: await cloud.executionFor(cloud.inputBucket, key, etag) };
}

async function getBytes(bucket: string, key: string): Promise<Uint8Array> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return out.Body!.transformToByteArray();
}

const getJson = async <T>(key: string): Promise<T> =>
  JSON.parse(new TextDecoder().decode(await getBytes(cloud.outputBucket, key))) as T;

async function exists(bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

describe('Local cloud: upload -> MIDI', () => {
  it('a short song produces the MIDI and the manifest in the output bucket', async () => {
    const song = shortSongWav(2);
    const { execution, etag } = await upload('uploads/session/take one.wav', song);
    expect(execution?.status, execution?.cause).toBe('SUCCEEDED');
    expect(execution?.states.map((s) => s.name)).toEqual(['Probe', 'Separate', 'Transcribe', 'Postprocess', 'Done']);

    const manifest = await getJson<Manifest>('results/session/take one.json');
    expect(manifest).toMatchObject({
      status: 'succeeded',
      input: { bucket: cloud.inputBucket, key: 'uploads/session/take one.wav', sizeBytes: song.length },
      outputs: { midi: 'results/session/take one.mid', stems: {} },
      models: { separator: null, transcriber: { name: 'piano-ensemble' } },
      execution: execution?.name,
    });
    expect(manifest.durationSec).toBeCloseTo(2, 3);
    expect(manifest.timings.map((t) => t.stage)).toEqual(['probe', 'separate', 'transcribe', 'postprocess']);

    const midi = new Midi(await getBytes(cloud.outputBucket, 'results/session/take one.mid'));
    const pitches = midi.tracks.flatMap((t) => t.notes.map((n) => n.midi));
    expect(pitches.length).toBe(manifest.noteCount);
    // The four synthesized tones, give or take an octave error or a missed note.
    expect(pitches.filter((p) => [60, 64, 67, 72].includes(p)).length).toBeGreaterThanOrEqual(2);
    expect(await exists(cloud.outputBucket, 'results/session/take one.error.json')).toBe(false);
    // Without separation the upload is a solo recording, and the transcriber decodes it as one.
    const work = workKeys(workPrefixFor(executionNameFor(cloud.inputBucket, 'uploads/session/take one.wav', etag)));
    expect((await getJson<StageRecord>(work.record('transcribe'))).details).toMatchObject({ source: 'solo' });
  });

  it('ignores uploads outside the prefix or without an audio suffix', async () => {
    const before = cloud.sfn.executions().length;
    await s3.send(new PutObjectCommand({ Bucket: cloud.inputBucket, Key: 'uploads/notes.txt', Body: 'hello' }));
    await s3.send(new PutObjectCommand({ Bucket: cloud.inputBucket, Key: 'elsewhere/song.wav', Body: shortSongWav(0.5) }));
    await cloud.idle();
    expect(cloud.sfn.executions().length).toBe(before);
  });
});

describe('Local cloud: bad input', () => {
  it('a corrupt upload writes <name>.error.json and fails the execution; the input is intact', async () => {
    const corrupt = new TextEncoder().encode('%PDF-1.7 this is a document, not a song '.repeat(50));
    const { key, etag, execution } = await upload('uploads/broken.mp3', corrupt);
    expect(execution?.status).toBe('FAILED');
    expect(execution?.error).toBe('InputError');
    const record = await getJson<ErrorRecord>('results/broken.error.json');
    expect(record).toMatchObject({ status: 'failed', stage: 'probe', error: 'InputError', retryable: false, input: { key, etag } });
    expect(record.reason.length).toBeGreaterThan(10);
    expect(record.reason).toContain('broken.mp3');
    // The execution fails with the same reason a user reads in the record.
    expect(execution?.cause).toBe(record.reason);
    expect(execution?.states.map((s) => s.name)).toEqual(['Probe', 'ProbeFailed', 'RecordFailure', 'Failed']);

    const head = await s3.send(new HeadObjectCommand({ Bucket: cloud.inputBucket, Key: key }));
    expect(head.ETag?.replace(/"/g, '')).toBe(etag);
    expect(await getBytes(cloud.inputBucket, key)).toEqual(corrupt);
    expect(await exists(cloud.outputBucket, 'results/broken.mid')).toBe(false);
    expect(await exists(cloud.outputBucket, 'results/broken.json')).toBe(false);
  });

  it('an empty upload fails in probe with a reason', async () => {
    const { execution } = await upload('uploads/empty.wav', new Uint8Array(0));
    expect(execution?.status).toBe('FAILED');
    const record = await getJson<ErrorRecord>('results/empty.error.json');
    expect(record).toMatchObject({ stage: 'probe', error: 'InputError', retryable: false });
  });
});

describe('Local cloud: idempotency', () => {
  it('uploading the same object twice does not run the pipeline twice', async () => {
    const song = shortSongWav(1);
    const first = await upload('uploads/twice.wav', song);
    expect(first.execution?.status).toBe('SUCCEEDED');
    const probes = cloud.lambda.countInvocations('probe');
    const executions = cloud.sfn.executions().length;
    const starts = cloud.lambda.countInvocations('start');

    const second = await upload('uploads/twice.wav', song);
    expect(second.etag).toBe(first.etag);
    // The event arrived and the start function ran, but Step Functions refused the name.
    expect(cloud.lambda.countInvocations('start')).toBe(starts + 1);
    const last = cloud.events.deliveries[cloud.events.deliveries.length - 1];
    expect(last.result).toMatchObject({ executionName: first.execution?.name, started: false });
    expect(cloud.sfn.executions().length).toBe(executions);
    expect(cloud.lambda.countInvocations('probe')).toBe(probes);

    // New bytes under the same key are a new upload and do run.
    const changed = await upload('uploads/twice.wav', shortSongWav(1.5));
    expect(changed.execution?.name).not.toBe(first.execution?.name);
    expect(changed.execution?.status).toBe('SUCCEEDED');
  });
});

describe('Local cloud: transient failures', () => {
  it('an S3 outage that outlasts the SDK retries is retried by the workflow', async () => {
    // Fail every SDK attempt of the transcriber's read of the decoded mix, once.
    const fault = cloud.s3.injectFault({
      method: 'GET',
      pathPattern: /\/work\/[^/]+\/audio\.wav$/,
      count: S3_MAX_ATTEMPTS,
      code: 'SlowDown',
      status: 503,
    });
    const transcribes = cloud.lambda.countInvocations('transcribe');
    const { execution } = await upload('uploads/flaky.wav', shortSongWav(1));
    expect(fault.remaining).toBe(0);
    expect(cloud.s3.faultsServed.filter((f) => f.code === 'SlowDown')).toHaveLength(S3_MAX_ATTEMPTS);
    expect(execution?.status, execution?.cause).toBe('SUCCEEDED');
    const transcribe = execution?.states.find((s) => s.name === 'Transcribe');
    expect(transcribe).toMatchObject({ retries: 1, failed: true, caught: false });
    expect(cloud.lambda.countInvocations('transcribe')).toBe(transcribes + 2);
    const failedFirst = cloud.lambda.invocations.filter((i) => i.kind === 'transcribe').slice(-2);
    expect(failedFirst.map((i) => i.error)).toEqual(['TransientError', undefined]);
    expect((await getJson<Manifest>('results/flaky.json')).status).toBe('succeeded');
  });

  it('a Batch job that fails transiently is retried by the job definition’s retry strategy', async () => {
    // Every SDK attempt of the job's record write fails once: the entrypoint exits 75 and Batch
    // runs a second attempt, as EvaluateOnExit in the synthesized job definition says.
    cloud.s3.injectFault({ method: 'PUT', pathPattern: /\/work\/[^/]+\/separate\.json$/, count: S3_MAX_ATTEMPTS, code: 'InternalError', status: 500 });
    const jobsBefore = cloud.batch.jobs.length;
    const { execution } = await upload('uploads/batch-retry.wav', shortSongWav(1));
    expect(execution?.status, execution?.cause).toBe('SUCCEEDED');
    const job = cloud.batch.jobs[jobsBefore];
    expect(job.Attempts.map((a) => a.Container.ExitCode)).toEqual([75, 0]);
    expect(execution?.states.find((s) => s.name === 'Separate')?.retries).toBe(0);
  });

  it('a Batch job that keeps failing fails the execution with the job’s own reason', async () => {
    // Three Batch attempts, each exhausting the SDK's attempts.
    cloud.s3.injectFault({ method: 'PUT', pathPattern: /\/work\/[^/]+\/separate\.json$/, count: 3 * S3_MAX_ATTEMPTS, code: 'InternalError', status: 500 });
    const jobsBefore = cloud.batch.jobs.length;
    const { execution } = await upload('uploads/batch-down.wav', shortSongWav(1));
    expect(execution?.status).toBe('FAILED');
    expect(cloud.batch.jobs[jobsBefore].Attempts.map((a) => a.Container.ExitCode)).toEqual([75, 75, 75]);
    const record = await getJson<ErrorRecord>('results/batch-down.error.json');
    expect(record).toMatchObject({ stage: 'separate', error: 'TransientError', retryable: true });
    expect(record.reason).toMatch(/could not reach storage.*Re-running is safe/);
    expect(execution?.error).toBe('TransientError');
    expect(execution?.states.map((s) => s.name)).toEqual(['Probe', 'Separate', 'SeparateFailed', 'RecordFailure', 'Failed']);
  });

  it('lists nothing under results/ but the outputs named in manifests and error records', async () => {
    await cloud.idle();
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: cloud.outputBucket, Prefix: 'results/' }));
    const keys = (listed.Contents ?? []).map((o) => o.Key ?? '');
    for (const key of keys) expect(key).toMatch(/\.(mid|json)$/);
  });
});
