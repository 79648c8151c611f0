/**
 * The local cloud: the synthesized stack running on 127.0.0.1 without Docker or an AWS account.
 *
 *   s3rver (real S3 protocol) --object created--> local EventBridge (the template's rule pattern)
 *     --> start function (real handler, real SFN SDK call) --> local Step Functions API
 *     --> the template's state machine definition (aws-local-stepfunctions)
 *     --> Task states routed to the handler modules (Lambda invoke) and the Batch entrypoint
 *         (submitJob.sync), each with its environment from the template.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { synthStack, type CfnTemplate, type SynthOptions } from '../infra/synth.js';
import { createS3Client } from '../functions/shared/storage.js';
import { createLogger, silentLogger } from '../functions/shared/log.js';
import { LocalBatch } from './batch.js';
import { LocalEventBridge } from './eventbridge.js';
import { localNames, LOCAL_REGION, resolveIntrinsics, type LocalNames } from './intrinsics.js';
import { LocalLambda } from './lambda.js';
import { LOCAL_CREDENTIALS, startLocalS3, type LocalS3 } from './s3.js';
import { LocalStepFunctions, type LocalExecution } from './stepfunctions.js';
import { resourcesOfType } from './template.js';

export interface LocalCloudOptions {
  /** A template to run; default: synthesize the stack with `synth`. */
  template?: CfnTemplate;
  synth?: SynthOptions;
  /** Print the functions' JSON logs to stderr. */
  verbose?: boolean;
  /**
   * Added to every function's and job's environment, e.g. `{ ORT_INTRA_OP_THREADS: '1' }` so
   * tests do not take every core of a shared machine.
   */
  functionEnv?: Record<string, string>;
}

export interface LocalCloud {
  template: CfnTemplate;
  names: LocalNames;
  s3: LocalS3;
  lambda: LocalLambda;
  batch: LocalBatch;
  sfn: LocalStepFunctions;
  events: LocalEventBridge;
  inputBucket: string;
  outputBucket: string;
  stateMachineArn: string;
  uploadPrefix: string;
  /** A client for the local S3 (what a user's upload tool would be). */
  client(): S3Client;
  /** Waits until every event is delivered and every execution has finished. */
  idle(): Promise<void>;
  /** The execution started for an upload, once it has finished. */
  executionFor(bucket: string, key: string, etag: string): Promise<LocalExecution | undefined>;
  stop(): Promise<void>;
}

function output(template: CfnTemplate, names: LocalNames, key: string): string {
  const out = template.Outputs?.[key];
  if (!out) throw new Error(`template has no output ${key}`);
  return String(resolveIntrinsics(out.Value, names));
}

export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const template = options.template ?? synthStack(options.synth).template;
  const names = localNames(template);
  const s3 = await startLocalS3();
  for (const b of resourcesOfType(template, 'AWS::S3::Bucket')) await s3.createBucket(names.ref(b.logicalId));

  const logger = options.verbose ? createLogger('localcloud', (l) => process.stderr.write(`${l}\n`)) : silentLogger;
  const handlerS3 = createS3Client({ endpoint: s3.endpoint, region: LOCAL_REGION, forcePathStyle: true, credentials: LOCAL_CREDENTIALS });
  // Functions are loaded on first invoke, after the Step Functions API listens and the client
  // below points at it; the runtime object is shared, so filling it in later is enough.
  const runtime = { s3: handlerS3, sfn: new SFNClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }), logger };
  const lambda = new LocalLambda(template, names, runtime, options.functionEnv);
  const batch = new LocalBatch(template, names, runtime, options.functionEnv);
  const sfn = new LocalStepFunctions(template, names, lambda, batch);
  const sfnEndpoint = await sfn.listen();
  runtime.sfn.destroy();
  runtime.sfn = new SFNClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: sfnEndpoint });
  const sfnClient = runtime.sfn;
  const events = new LocalEventBridge(template, names, lambda, sfn);
  s3.onObjectCreated((o) => events.fromS3(o));

  const idle = async (): Promise<void> => {
    // An execution's end can trigger nothing new today, but loop in case a stage writes uploads.
    for (;;) {
      await events.idle();
      await sfn.waitForAll();
      const busy = sfn.executions().some((e) => e.status === 'RUNNING');
      if (!busy) return;
    }
  };

  return {
    template,
    names,
    s3,
    lambda,
    batch,
    sfn,
    events,
    inputBucket: output(template, names, 'InputBucketName'),
    outputBucket: output(template, names, 'OutputBucketName'),
    stateMachineArn: output(template, names, 'StateMachineArn'),
    uploadPrefix: output(template, names, 'UploadPrefix'),
    client: () => s3.client(),
    idle,
    executionFor: async (bucket, key, etag) => {
      await idle();
      const { executionNameFor } = await import('../functions/shared/layout.js');
      return sfn.execution(executionNameFor(bucket, key, etag));
    },
    stop: async () => {
      await sfn.close();
      sfnClient.destroy();
      handlerS3.destroy();
      await s3.stop();
    },
  };
}

export type { LocalExecution } from './stepfunctions.js';
