/** Pure parts of the handlers: naming, layout, failure diagnosis, stage serialization. */
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../functions/report-failure/index.js';
import { jobInputFor } from '../../functions/start/index.js';
import { executionNameFor, outputNameFor, resultKeys, workPrefixFor } from '../../functions/shared/layout.js';
import { isTransientS3Error } from '../../functions/shared/storage.js';
import { exitCodeFor, EXIT_FAILURE, EXIT_INPUT_ERROR, EXIT_TRANSIENT } from '../../functions/separate/batch.js';
import { TransientError } from '../../functions/shared/errors.js';
import { InputError } from '../../src/errors.js';
import { decodeWavFloat32, encodeWavFloat32, transcriptionFromJson, transcriptionToJson } from '../../src/pipeline/serialize.js';

describe('Module: layout', () => {
  it('derives the output name from the key under the upload prefix', () => {
    expect(outputNameFor('uploads/live/My Song.mp3')).toBe('live/My Song');
    expect(outputNameFor('uploads/noext')).toBe('noext');
    expect(outputNameFor('uploads/.hidden')).toBe('.hidden');
    expect(resultKeys('live/My Song').midi).toBe('results/live/My Song.mid');
    expect(resultKeys('a').error).toBe('results/a.error.json');
  });

  it('execution names: deterministic in bucket+key+ETag, valid for Step Functions, different per content', () => {
    const a = executionNameFor('in', 'uploads/live/My Song (final).mp3', '"abc"');
    expect(a).toBe(executionNameFor('in', 'uploads/live/My Song (final).mp3', 'abc'));
    expect(a).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(a.startsWith('live-My-Song-final-')).toBe(true);
    expect(executionNameFor('in', 'uploads/live/My Song (final).mp3', 'abd')).not.toBe(a);
    expect(executionNameFor('in2', 'uploads/live/My Song (final).mp3', 'abc')).not.toBe(a);
    const long = executionNameFor('in', `uploads/${'x'.repeat(300)}.wav`, 'e');
    expect(long.length).toBeLessThanOrEqual(80);
    expect(executionNameFor('in', 'uploads/ñ♪.wav', 'e')).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
  });

  it('start: the execution input holds keys only', () => {
    const { name, input } = jobInputFor(
      { version: '0', bucket: { name: 'in' }, object: { key: 'uploads/x.wav', size: 10, etag: 'e1' } },
      'uploads/',
    );
    expect(input).toEqual({ bucket: 'in', key: 'uploads/x.wav', etag: 'e1', sizeBytes: 10, name: 'x', workPrefix: workPrefixFor(name) });
  });
});

describe('Function: diagnose (failure reporter)', () => {
  const lambdaCause = (errorType: string, errorMessage: string): string => JSON.stringify({ errorType, errorMessage, trace: [] });

  it('passes the core’s user-facing message through and marks bad input as not retryable', () => {
    const d = diagnose('probe', 'InputError', lambdaCause('InputError', 'x.mp3 is not audio: it starts with "%PDF".'));
    expect(d).toEqual({ error: 'InputError', reason: 'x.mp3 is not audio: it starts with "%PDF".', retryable: false });
  });

  it('timeouts and transient trouble say what to do', () => {
    expect(diagnose('separate', 'States.Timeout', undefined).reason).toMatch(/ran out of time.*GPU separation/);
    expect(diagnose('transcribe', 'Sandbox.Timedout', lambdaCause('Sandbox.Timedout', 'Task timed out')).reason).toMatch(/shorter excerpt/);
    const t = diagnose('probe', 'TransientError', lambdaCause('TransientError', 'S3 was unavailable'));
    expect(t.retryable).toBe(true);
    expect(t.reason).toMatch(/Re-running is safe/);
  });

  it('Batch: prefers the job’s own error note over the job description', () => {
    const job = JSON.stringify({ Status: 'FAILED', StatusReason: 'Essential container in task exited', Container: { ExitCode: 65 } });
    const fromNote = diagnose('separate', 'States.TaskFailed', job, { errorType: 'InputError', errorMessage: 'too quiet' });
    expect(fromNote).toMatchObject({ error: 'InputError', reason: 'too quiet', retryable: false });
    expect(diagnose('separate', 'States.TaskFailed', job).reason).toMatch(/job failed without a report \(Essential container/);
  });

  it('Batch exit codes tell the retry strategy whether to try again', () => {
    expect(exitCodeFor(new InputError('NOT_AUDIO', 'x'))).toBe(EXIT_INPUT_ERROR);
    expect(exitCodeFor(new TransientError('x'))).toBe(EXIT_TRANSIENT);
    expect(exitCodeFor(new Error('x'))).toBe(EXIT_FAILURE);
  });
});

describe('Function: isTransientS3Error', () => {
  it('classifies throttling, 5xx and network errors as transient; 4xx as not', () => {
    expect(isTransientS3Error({ name: 'SlowDown', $metadata: { httpStatusCode: 503 } })).toBe(true);
    expect(isTransientS3Error({ name: 'InternalError', $fault: 'server' })).toBe(true);
    expect(isTransientS3Error({ name: 'Error', code: 'ECONNRESET' })).toBe(true);
    expect(isTransientS3Error({ name: 'NoSuchKey', $fault: 'client', $metadata: { httpStatusCode: 404 } })).toBe(false);
    expect(isTransientS3Error({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })).toBe(false);
  });
});

describe('Module: pipeline/serialize', () => {
  it('audio round-trips bit for bit through float WAV', () => {
    const left = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i / 7) * 0.9);
    const right = Float32Array.from({ length: 1000 }, (_, i) => (i % 13) / 13 - 0.5 + 1e-7);
    const back = decodeWavFloat32(encodeWavFloat32({ sampleRateHz: 44100, channels: [left, right] }));
    expect(back.sampleRateHz).toBe(44100);
    expect(back.channels[0]).toEqual(left);
    expect(back.channels[1]).toEqual(right);
  });

  it('transcriptions round-trip and malformed notes are rejected', () => {
    const t = {
      notes: [{ onsetSec: 0.5, offsetSec: 1.25, pitchMidi: 60, velocity: 80, confidence: 0.9 }],
      pedal: [{ onsetSec: 0, offsetSec: 2 }],
    };
    expect(transcriptionFromJson(transcriptionToJson(t))).toEqual(t);
    expect(transcriptionFromJson(transcriptionToJson({ notes: [] }))).toEqual({ notes: [] });
    expect(() => transcriptionFromJson('{"notes":[{"onsetSec":"a"}]}')).toThrow(/note 0/);
    expect(() => transcriptionFromJson('{}')).toThrow(/notes/);
  });
});
