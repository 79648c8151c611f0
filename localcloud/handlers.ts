/**
 * Which code runs for which deployed function. Every function and job the stack defines carries
 * `STEMSCRIBE_FUNCTION` in its environment; the local cloud reads it from the template and loads
 * the same handler module the bundle or image is built from.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { Logger } from '../functions/shared/log.js';

export interface RuntimeDeps {
  s3: S3Client;
  sfn: SFNClient;
  env: Record<string, string>;
  logger: Logger;
}

export type LocalHandler = (event: unknown) => Promise<unknown>;
/** A Batch job: runs with the given arguments, resolves to the container's exit code. */
export type LocalJob = (argv: readonly string[]) => Promise<number>;

type Loader<T> = (deps: RuntimeDeps) => Promise<T>;

export const LAMBDA_HANDLERS: Record<string, Loader<LocalHandler>> = {
  start: async ({ sfn, env, logger }) => {
    const m = await import('../functions/start/index.js');
    const h = m.createHandler({ sfn, env, logger });
    return (e) => h(e as Parameters<typeof h>[0]);
  },
  probe: async ({ s3, env, logger }) => {
    const m = await import('../functions/probe/index.js');
    const h = m.createHandler({ s3, env, logger });
    return (e) => h(e as Parameters<typeof h>[0]);
  },
  separate: async ({ s3, env, logger }) => {
    const m = await import('../functions/separate/index.js');
    const h = m.createHandler({ s3, env, logger });
    return (e) => h(e as Parameters<typeof h>[0]);
  },
  transcribe: async ({ s3, env, logger }) => {
    const m = await import('../functions/transcribe/index.js');
    const h = m.createHandler({ s3, env, logger });
    return (e) => h(e as Parameters<typeof h>[0]);
  },
  postprocess: async ({ s3, env, logger }) => {
    const m = await import('../functions/postprocess/index.js');
    const h = m.createHandler({ s3, env, logger });
    return (e) => h(e as Parameters<typeof h>[0]);
  },
  'report-failure': async ({ s3, env, logger }) => {
    const m = await import('../functions/report-failure/index.js');
    const h = m.createHandler({ s3, env, logger });
    return (e) => h(e as Parameters<typeof h>[0]);
  },
};

export const BATCH_JOBS: Record<string, Loader<LocalJob>> = {
  'separate-batch': async ({ s3, env, logger }) => {
    const m = await import('../functions/separate/batch.js');
    return (argv) => m.runBatchJob({ s3, env, logger }, argv);
  },
};
