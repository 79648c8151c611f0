/**
 * Failure reporter: every stage's Catch ends here. Turns whatever the failed state produced (a
 * Lambda error, a Step Functions timeout, a Batch job description) into `<name>.error.json`
 * with a reason a user can act on, and hands that reason back for the Fail state's cause.
 */
import { parseConfig, reportFailureConfigSchema } from '../shared/config.js';
import { lazyHandler, type Handler, type HandlerDeps } from '../shared/handler.js';
import { resultKeys, workKeys, type CloudStage } from '../shared/layout.js';
import { Storage } from '../shared/storage.js';
import type { ErrorRecord, FailureEvent, FailureResult } from '../shared/types.js';

interface LambdaErrorCause {
  errorType?: string;
  errorMessage?: string;
}

interface BatchErrorRecord {
  errorType?: string;
  errorMessage?: string;
  code?: string;
}

interface BatchJobCause {
  Status?: string;
  StatusReason?: string;
  Container?: { ExitCode?: number; Reason?: string };
}

interface Diagnosis {
  error: string;
  reason: string;
  retryable: boolean;
  code?: string;
}

const USER_ERRORS = new Set(['InputError', 'StemscribeError', 'ModelError']);

function parseJson<T>(text: string | undefined): T | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}

const RERUN = 'Re-running is safe: start a new execution with the same input from the Step Functions console, or redrive this one.';

/** Pure: the diagnosis for one caught error. Exported for tests. */
export function diagnose(stage: CloudStage, error: string, cause: string | undefined, batch?: BatchErrorRecord): Diagnosis {
  if (batch?.errorType) {
    return diagnose(stage, batch.errorType, JSON.stringify({ errorType: batch.errorType, errorMessage: batch.errorMessage }));
  }
  const lambdaCause = parseJson<LambdaErrorCause>(cause);
  const message = lambdaCause?.errorMessage ?? cause ?? '';
  if (USER_ERRORS.has(error)) {
    // Bad input and a missing/corrupt model stay broken on a re-run; other core errors may not.
    return { error, reason: message, retryable: error === 'StemscribeError' };
  }
  if (error === 'TransientError') {
    return { error, reason: `The ${stage} stage could not reach storage after several retries (${message}). ${RERUN}`, retryable: true };
  }
  if (error === 'States.Timeout' || error === 'Sandbox.Timedout') {
    return {
      error,
      reason: `The ${stage} stage ran out of time. Upload a shorter excerpt, or deploy with a longer timeout${stage === 'separate' ? ' or with GPU separation (-c separation=batch)' : ''}.`,
      retryable: false,
    };
  }
  if (error === 'Runtime.OutOfMemory' || /out of memory|signal: killed/i.test(message)) {
    return { error, reason: `The ${stage} stage ran out of memory. Upload a shorter excerpt or deploy with more memory.`, retryable: false };
  }
  if (error === 'ConfigurationError') {
    return { error, reason: message, retryable: false };
  }
  const job = parseJson<BatchJobCause>(cause);
  if (job?.Status) {
    const why = job.Container?.Reason ?? job.StatusReason ?? 'the job failed';
    return { error, reason: `The ${stage} job failed without a report (${why}). ${RERUN}`, retryable: true };
  }
  return { error, reason: `Unexpected ${error} in the ${stage} stage: ${message || 'no details'}. ${RERUN}`, retryable: true };
}

export function createHandler(deps: HandlerDeps): Handler<FailureEvent, FailureResult> {
  const config = parseConfig(reportFailureConfigSchema, deps.env, 'report-failure');
  const storage = new Storage(deps.s3);
  return async (event) => {
    const batch =
      event.failedStage === 'separate'
        ? await storage.getJsonIfExists<BatchErrorRecord>(config.OUTPUT_BUCKET, workKeys(event.workPrefix).batchError)
        : undefined;
    const diagnosis = diagnose(event.failedStage, event.error.Error, event.error.Cause, batch);
    const errorKey = resultKeys(event.name).error;
    const record: ErrorRecord = {
      status: 'failed',
      stage: event.failedStage,
      error: diagnosis.error,
      ...(diagnosis.code ?? batch?.code ? { code: diagnosis.code ?? batch?.code } : {}),
      reason: diagnosis.reason,
      retryable: diagnosis.retryable,
      input: { bucket: event.bucket, key: event.key, etag: event.etag },
      execution: event.workPrefix.split('/').filter(Boolean).pop() ?? '',
      failedAt: new Date().toISOString(),
    };
    await storage.putJson(config.OUTPUT_BUCKET, errorKey, record);
    deps.logger.warn('run failed', { stage: record.stage, error: record.error, reason: record.reason });
    return { error: diagnosis.error, cause: diagnosis.reason, errorKey };
  };
}

export const handler = lazyHandler('report-failure', createHandler);
