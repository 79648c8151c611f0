/**
 * Start: the EventBridge rule's target. EventBridge cannot name a Step Functions execution, so
 * this function does: the name comes from bucket, key and ETag (see `executionNameFor`), and a
 * Standard workflow refuses a second execution of that name. A duplicate event (EventBridge
 * delivers at least once) or a re-upload of identical bytes therefore starts nothing new.
 */
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { EventBridgeEvent } from 'aws-lambda';
import { parseConfig, startConfigSchema } from '../shared/config.js';
import { TransientError } from '../shared/errors.js';
import { createLogger, type Logger } from '../shared/log.js';
import type { Env } from '../shared/config.js';
import { executionNameFor, outputNameFor, workPrefixFor } from '../shared/layout.js';
import type { JobInput } from '../shared/types.js';

/** The `detail` of an S3 "Object Created" event delivered through EventBridge. */
export interface ObjectCreatedDetail {
  version: string;
  bucket: { name: string };
  object: { key: string; size?: number; etag?: string; sequencer?: string };
  reason?: string;
}

export type ObjectCreatedEvent = EventBridgeEvent<'Object Created', ObjectCreatedDetail>;

export interface StartResult {
  executionName: string;
  /** False when an execution of this name already existed: nothing new was started. */
  started: boolean;
  executionArn?: string;
}

export interface StartDeps {
  sfn: SFNClient;
  env: Env;
  logger: Logger;
}

/** Pure: the execution input for one event. */
export function jobInputFor(detail: ObjectCreatedDetail, uploadPrefix: string): { name: string; input: JobInput } {
  const etag = (detail.object.etag ?? '').replace(/"/g, '');
  const executionName = executionNameFor(detail.bucket.name, detail.object.key, etag);
  return {
    name: executionName,
    input: {
      bucket: detail.bucket.name,
      key: detail.object.key,
      etag,
      sizeBytes: detail.object.size ?? 0,
      name: outputNameFor(detail.object.key, uploadPrefix),
      workPrefix: workPrefixFor(executionName),
    },
  };
}

export function createHandler(deps: StartDeps): (event: ObjectCreatedEvent) => Promise<StartResult> {
  const config = parseConfig(startConfigSchema, deps.env, 'start');
  return async (event) => {
    const { name, input } = jobInputFor(event.detail, config.UPLOAD_PREFIX);
    try {
      const out = await deps.sfn.send(
        new StartExecutionCommand({ stateMachineArn: config.STATE_MACHINE_ARN, name, input: JSON.stringify(input) }),
      );
      deps.logger.info('started', { executionName: name, key: input.key });
      return { executionName: name, started: true, executionArn: out.executionArn };
    } catch (error) {
      const errName = (error as { name?: string }).name;
      if (errName === 'ExecutionAlreadyExists') {
        deps.logger.info('already processed or in progress; not starting again', { executionName: name, key: input.key });
        return { executionName: name, started: false };
      }
      if (errName === 'ThrottlingException' || (error as { $fault?: string }).$fault === 'server') {
        // EventBridge retries a failed Lambda target (with backoff, for up to 24 h).
        throw new TransientError(`Step Functions refused the start (${errName}); EventBridge will retry.`, { cause: error });
      }
      throw error;
    }
  };
}

let built: ((event: ObjectCreatedEvent) => Promise<StartResult>) | undefined;
export const handler = (event: ObjectCreatedEvent): Promise<StartResult> => {
  built ??= createHandler({ sfn: new SFNClient({}), env: process.env, logger: createLogger('start') });
  return built(event);
};
