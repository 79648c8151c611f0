/**
 * Separation as an AWS Batch job (the default, GPU deployment). Batch passes the run's work
 * prefix in `WORK_PREFIX` (a container override set by the workflow) and cannot return a value
 * or a message to Step Functions, so on failure this writes `work/<exec>/separate.error.json`
 * for the failure reporter and exits with a code the job definition's retry strategy reads:
 *   0  done
 *   65 (EX_DATAERR)  the input is the problem: Batch must not retry
 *   75 (EX_TEMPFAIL) transient trouble: Batch retries the job
 *   1  anything else: Batch retries (a fresh host may help)
 */
import { pathToFileURL } from 'node:url';
import { isStemscribeError } from '../../src/errors.js';
import { parseConfig, separateConfigSchema, type Env } from '../shared/config.js';
import { ConfigurationError, TransientError } from '../shared/errors.js';
import type { HandlerDeps } from '../shared/handler.js';
import { workKeys } from '../shared/layout.js';
import { createLogger } from '../shared/log.js';
import { createS3Client, Storage } from '../shared/storage.js';
import { runSeparation } from './run.js';

export const EXIT_OK = 0;
export const EXIT_INPUT_ERROR = 65;
export const EXIT_TRANSIENT = 75;
export const EXIT_FAILURE = 1;

export function exitCodeFor(error: unknown): number {
  if (error instanceof TransientError) return EXIT_TRANSIENT;
  if (isStemscribeError(error) || error instanceof ConfigurationError) return EXIT_INPUT_ERROR;
  return EXIT_FAILURE;
}

/** Runs one job; returns the process exit code. `argv[0]`, when given, overrides WORK_PREFIX. */
export async function runBatchJob(deps: HandlerDeps, argv: readonly string[] = []): Promise<number> {
  const workPrefix = argv[0] ?? deps.env.WORK_PREFIX;
  if (!workPrefix) {
    deps.logger.error('WORK_PREFIX is not set; the workflow passes it as a container override');
    return EXIT_INPUT_ERROR;
  }
  try {
    await runSeparation(deps, workPrefix);
    return EXIT_OK;
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    deps.logger.error('separation failed', { errorType: e.name, errorMessage: e.message });
    try {
      const config = parseConfig(separateConfigSchema, deps.env, 'separate');
      await new Storage(deps.s3).putJson(config.OUTPUT_BUCKET, workKeys(workPrefix).batchError, {
        errorType: e.name,
        errorMessage: e.message,
        code: (e as { code?: unknown }).code,
      });
    } catch (writeError) {
      deps.logger.error('could not write the error record', { error: String(writeError) });
    }
    return exitCodeFor(error);
  }
}

async function main(): Promise<void> {
  const env: Env = process.env;
  const code = await runBatchJob(
    { s3: createS3Client(), env, logger: createLogger('separate-batch') },
    process.argv.slice(2),
  );
  process.exitCode = code;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
