/** Plumbing every handler shares: dependencies, lazy construction, stage records. */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Env } from './config.js';
import type { CloudStage } from './layout.js';
import { createLogger, type Logger } from './log.js';
import { createS3Client } from './storage.js';

export interface HandlerDeps {
  s3: S3Client;
  env: Env;
  logger: Logger;
}

export type Handler<E, R> = (event: E) => Promise<R>;

/**
 * The exported Lambda `handler`: built on first call from the real environment, so importing a
 * handler module (tests, the local cloud) has no side effects and needs no configuration.
 */
export function lazyHandler<E, R>(service: string, create: (deps: HandlerDeps) => Handler<E, R>): Handler<E, R> {
  let built: Handler<E, R> | undefined;
  return (event: E) => {
    built ??= create({ s3: createS3Client(), env: process.env, logger: createLogger(service) });
    return built(event);
  };
}

/** Wall-clock timing of a stage, in the shape stage records use. */
export function startTimer(): { startedAt: string; elapsedSec: () => number } {
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  return { startedAt, elapsedSec: () => Math.round(performance.now() - t0) / 1000 };
}

export const stageLogFields = (stage: CloudStage, workPrefix: string) => ({ stage, workPrefix });
