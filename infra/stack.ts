/**
 * The stemscribe stack: upload a song to the input bucket, find the MIDI in the output bucket.
 *
 *   S3 (input, EventBridge on) --Object Created, uploads/*.{wav,flac,mp3,ogg}--> EventBridge rule
 *     -> start Lambda (names the execution from key + ETag: one upload, one run)
 *     -> Step Functions (Standard): Probe -> Separate (Batch GPU job | CPU Lambda) -> Transcribe
 *        -> Postprocess; every stage: Retry on transient errors, Catch -> RecordFailure -> Fail.
 */
import { fileURLToPath } from 'node:url';
import * as cdk from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { AUDIO_SUFFIXES, RESULTS_PREFIX, WORK_PREFIX, type CloudStage } from '../functions/shared/layout.js';
import type { StackConfig } from './config.js';

/** Repository root: the Docker build context of the container images. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Error names the workflow retries (with backoff); everything else goes straight to Catch. */
export const LAMBDA_TRANSIENT_ERRORS = [
  'TransientError',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];
export const BATCH_TRANSIENT_ERRORS = ['Batch.AWSBatchException', 'Batch.ServerException', 'Batch.TooManyRequestsException'];

/** Exit codes of `functions/separate/batch.ts` that mean "the input is the problem": no retry. */
export const BATCH_NO_RETRY_EXIT_CODES = ['65'];

/**
 * Only what the images need goes into the Docker build context (and into cdk.out when staged):
 * the manifest, the core, the handlers and the models.
 */
const IMAGE_CONTEXT_EXCLUDES = [
  '*',
  '!package.json',
  '!package-lock.json',
  '!tsconfig.json',
  '!src',
  '!functions',
  '!models',
];

export interface StemscribeStackProps extends cdk.StackProps {
  config: StackConfig;
}

export class StemscribeStack extends cdk.Stack {
  public readonly inputBucket: s3.Bucket;
  public readonly outputBucket: s3.Bucket;
  public readonly stateMachine: sfn.StateMachine;

  public constructor(scope: Construct, id: string, props: StemscribeStackProps) {
    super(scope, id, props);
    const config = props.config;

    // ---- Buckets -------------------------------------------------------------------------
    const bucketDefaults: s3.BucketProps = {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Songs and results are user data: deleting the stack must not delete them.
      removalPolicy: cdk.RemovalPolicy.RETAIN,
    };
    this.inputBucket = new s3.Bucket(this, 'InputBucket', {
      ...bucketDefaults,
      eventBridgeEnabled: true,
      // An overwritten or deleted upload stays recoverable for 30 days.
      versioned: true,
      lifecycleRules: [
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: cdk.Duration.days(1) },
        { id: 'ExpireOldVersions', noncurrentVersionExpiration: cdk.Duration.days(30) },
      ],
    });
    this.outputBucket = new s3.Bucket(this, 'OutputBucket', {
      ...bucketDefaults,
      lifecycleRules: [
        { id: 'ExpireIntermediates', prefix: WORK_PREFIX, expiration: cdk.Duration.days(config.workRetentionDays) },
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: cdk.Duration.days(1) },
      ],
    });
    const input = this.inputBucket;
    const output = this.outputBucket;

    // ---- Functions -------------------------------------------------------------------------
    const commonEnv = { OUTPUT_BUCKET: output.bucketName, NODE_OPTIONS: '--enable-source-maps' };
    const bundled = (name: string, entry: string, opts: Partial<nodejs.NodejsFunctionProps>): nodejs.NodejsFunction =>
      new nodejs.NodejsFunction(this, `${name}Function`, {
        entry: `${REPO_ROOT}functions/${entry}`,
        handler: 'handler',
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.X86_64,
        projectRoot: REPO_ROOT,
        depsLockFilePath: `${REPO_ROOT}package-lock.json`,
        bundling: {
          format: nodejs.OutputFormat.ESM,
          target: 'node22',
          sourceMap: true,
          // The SDK is bundled (not taken from the runtime) so the deployed code is the tested code.
          externalModules: [],
          mainFields: ['module', 'main'],
          banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
          // These functions never run a model: a stub replaces the native runtime (see no-onnx.ts).
          esbuildArgs: { '--alias:onnxruntime-node': `${REPO_ROOT}functions/shared/no-onnx.ts` },
        },
        logGroup: new logs.LogGroup(this, `${name}Logs`, { retention: logs.RetentionDays.ONE_MONTH }),
        ...opts,
        environment: { STEMSCRIBE_FUNCTION: entry.split('/')[0], ...opts.environment },
      });
    const imageCode = (dockerfile: string): lambda.DockerImageCode =>
      lambda.DockerImageCode.fromImageAsset(REPO_ROOT, {
        file: dockerfile,
        exclude: IMAGE_CONTEXT_EXCLUDES,
        ignoreMode: cdk.IgnoreMode.DOCKER,
        platform: cdk.aws_ecr_assets.Platform.LINUX_AMD64,
      });

    const probeFn = bundled('Probe', 'probe/index.ts', {
      memorySize: 3008,
      timeout: cdk.Duration.minutes(5),
      ephemeralStorageSize: cdk.Size.mebibytes(1024),
      environment: {
        ...commonEnv,
        ...(config.maxInputBytes ? { MAX_INPUT_BYTES: String(config.maxInputBytes) } : {}),
        ...(config.maxDurationSec ? { MAX_DURATION_SEC: String(config.maxDurationSec) } : {}),
      },
    });
    const transcribeFn = new lambda.DockerImageFunction(this, 'TranscribeFunction', {
      code: imageCode('functions/transcribe/Dockerfile'),
      architecture: lambda.Architecture.X86_64,
      memorySize: 4096,
      timeout: cdk.Duration.minutes(15),
      logGroup: new logs.LogGroup(this, 'TranscribeLogs', { retention: logs.RetentionDays.ONE_MONTH }),
      environment: { ...commonEnv, STEMSCRIBE_FUNCTION: 'transcribe', TRANSCRIBER: config.transcriber },
    });
    const postprocessFn = bundled('Postprocess', 'postprocess/index.ts', {
      memorySize: 1024,
      timeout: cdk.Duration.minutes(5),
      environment: { ...commonEnv, POSTPROCESS: config.postprocess },
    });
    const reportFailureFn = bundled('ReportFailure', 'report-failure/index.ts', {
      memorySize: 256,
      timeout: cdk.Duration.seconds(30),
      environment: commonEnv,
    });

    // ---- Least-privilege access: each function gets exactly the keys it touches -------------
    const objects = (bucket: s3.IBucket, pattern: string): string => bucket.arnForObjects(pattern);
    const allow = (grantee: iam.IGrantable, actions: string[], resources: string[], conditions?: Record<string, unknown>): void => {
      grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources, conditions }));
    };
    // ListBucket (limited by prefix) turns "missing key" into a 404 instead of a 403.
    const listUnder = (grantee: iam.IGrantable, bucket: s3.IBucket, prefix: string): void =>
      allow(grantee, ['s3:ListBucket'], [bucket.bucketArn], { StringLike: { 's3:prefix': [`${prefix}*`] } });
    const readWriteWork = (grantee: iam.IGrantable): void => {
      allow(grantee, ['s3:GetObject', 's3:PutObject'], [objects(output, `${WORK_PREFIX}*`)]);
      listUnder(grantee, output, WORK_PREFIX);
    };

    // Probe reads uploads (never writes or deletes them) and writes the decoded mix.
    allow(probeFn, ['s3:GetObject'], [objects(input, `${config.uploadPrefix}*`)]);
    listUnder(probeFn, input, config.uploadPrefix);
    allow(probeFn, ['s3:PutObject'], [objects(output, `${WORK_PREFIX}*`)]);
    readWriteWork(transcribeFn);
    // Postprocess reads intermediates and publishes results (stems by server-side copy).
    allow(postprocessFn, ['s3:GetObject'], [objects(output, `${WORK_PREFIX}*`)]);
    listUnder(postprocessFn, output, WORK_PREFIX);
    allow(postprocessFn, ['s3:PutObject'], [objects(output, `${RESULTS_PREFIX}*`)]);
    // ... and removes a stale error record of an earlier failed upload under the same name.
    allow(postprocessFn, ['s3:DeleteObject'], [objects(output, `${RESULTS_PREFIX}*.error.json`)]);
    // The failure reporter reads the Batch job's error note and writes only error records.
    allow(reportFailureFn, ['s3:GetObject'], [objects(output, `${WORK_PREFIX}*/separate.error.json`)]);
    listUnder(reportFailureFn, output, WORK_PREFIX);
    allow(reportFailureFn, ['s3:PutObject'], [objects(output, `${RESULTS_PREFIX}*.error.json`)]);

    // ---- Workflow ----------------------------------------------------------------------------
    const taskTimeout = (d: cdk.Duration): sfn.Timeout => sfn.Timeout.duration(d);
    const retryTransient = <T extends sfn.TaskStateBase>(task: T, errors: string[]): T => {
      task.addRetry({
        errors,
        interval: cdk.Duration.seconds(2),
        backoffRate: 2,
        maxAttempts: 3,
        maxDelay: cdk.Duration.seconds(30),
        jitterStrategy: sfn.JitterType.FULL,
      });
      return task;
    };
    const invoke = (id: string, fn: lambda.IFunction, resultPath: string, timeout: cdk.Duration): tasks.LambdaInvoke =>
      retryTransient(
        new tasks.LambdaInvoke(this, id, {
          lambdaFunction: fn,
          payloadResponseOnly: true,
          resultPath,
          // The state machine's own deadline, a little above the function's timeout.
          taskTimeout: taskTimeout(timeout.plus(cdk.Duration.seconds(30))),
          retryOnServiceExceptions: false,
        }),
        LAMBDA_TRANSIENT_ERRORS,
      );

    const probe = invoke('Probe', probeFn, '$.probe', probeFn.timeout ?? cdk.Duration.minutes(5));
    let separate: tasks.LambdaInvoke | tasks.BatchSubmitJob;
    if (config.separation === 'batch') {
      const job = this.gpuSeparationJob(config, output);
      separate = retryTransient(
        new tasks.BatchSubmitJob(this, 'Separate', {
          jobName: sfn.JsonPath.stringAt('$$.Execution.Name'),
          jobQueueArn: job.queue.jobQueueArn,
          jobDefinitionArn: job.definition.jobDefinitionArn,
          containerOverrides: { environment: { WORK_PREFIX: sfn.JsonPath.stringAt('$.workPrefix') } },
          integrationPattern: sfn.IntegrationPattern.RUN_JOB,
          // The job description is large; the state keeps only what identifies the job.
          resultSelector: { 'jobId.$': '$.JobId', 'status.$': '$.Status' },
          resultPath: '$.separate',
          // Queueing for a GPU instance (cold compute environment) plus the job itself.
          taskTimeout: taskTimeout(cdk.Duration.hours(2)),
        }),
        BATCH_TRANSIENT_ERRORS,
      );
    } else {
      const separateFn = new lambda.DockerImageFunction(this, 'SeparateFunction', {
        code: imageCode('functions/separate/Dockerfile.lambda'),
        architecture: lambda.Architecture.X86_64,
        memorySize: 10240,
        timeout: cdk.Duration.minutes(15),
        ephemeralStorageSize: cdk.Size.gibibytes(2),
        logGroup: new logs.LogGroup(this, 'SeparateLogs', { retention: logs.RetentionDays.ONE_MONTH }),
        environment: { ...commonEnv, STEMSCRIBE_FUNCTION: 'separate', SEPARATOR: config.separator },
      });
      readWriteWork(separateFn);
      separate = invoke('Separate', separateFn, '$.separate', cdk.Duration.minutes(15));
    }
    const transcribe = invoke('Transcribe', transcribeFn, '$.transcribe', cdk.Duration.minutes(15));
    const postprocess = invoke('Postprocess', postprocessFn, '$.postprocess', cdk.Duration.minutes(5));

    const fail = new sfn.Fail(this, 'Failed', { errorPath: '$.failure.error', causePath: '$.failure.cause' });
    // If even the error record cannot be written, fail with the original error.
    const failUnreported = new sfn.Fail(this, 'FailedUnreported', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const recordFailure = invoke('RecordFailure', reportFailureFn, '$.failure', cdk.Duration.seconds(30));
    recordFailure.addCatch(failUnreported, { resultPath: '$.reportError' });
    recordFailure.next(fail);
    const catchInto = (task: tasks.LambdaInvoke | tasks.BatchSubmitJob, stage: CloudStage): void => {
      const mark = new sfn.Pass(this, `${task.node.id}Failed`, {
        comment: `Remember that the ${stage} stage failed, for the error record.`,
        result: sfn.Result.fromString(stage),
        resultPath: '$.failedStage',
      });
      mark.next(recordFailure);
      task.addCatch(mark, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    };
    catchInto(probe, 'probe');
    catchInto(separate, 'separate');
    catchInto(transcribe, 'transcribe');
    catchInto(postprocess, 'postprocess');

    const done = new sfn.Succeed(this, 'Done', { outputPath: '$.postprocess' });
    const definition = probe.next(separate).next(transcribe).next(postprocess).next(done);

    this.stateMachine = new sfn.StateMachine(this, 'Pipeline', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: cdk.Duration.hours(4),
      tracingEnabled: true,
      logs: {
        destination: new logs.LogGroup(this, 'PipelineLogs', { retention: logs.RetentionDays.ONE_MONTH }),
        level: sfn.LogLevel.ERROR,
        includeExecutionData: false,
      },
    });

    // ---- Trigger: S3 -> EventBridge -> start function -> state machine -----------------------
    const startFn = bundled('Start', 'start/index.ts', {
      memorySize: 256,
      timeout: cdk.Duration.seconds(30),
      environment: { STATE_MACHINE_ARN: this.stateMachine.stateMachineArn, UPLOAD_PREFIX: config.uploadPrefix },
    });
    this.stateMachine.grantStartExecution(startFn);
    const keyPatterns = AUDIO_SUFFIXES.flatMap((suffix) => [
      { wildcard: `${config.uploadPrefix}*${suffix}` },
      { wildcard: `${config.uploadPrefix}*${suffix.toUpperCase()}` },
    ]);
    const deadLetters = new sqs.Queue(this, 'StartDeadLetters', {
      retentionPeriod: cdk.Duration.days(14),
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    new events.Rule(this, 'UploadRule', {
      description: 'Starts the stemscribe pipeline for audio uploaded under the upload prefix.',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [input.bucketName] },
          object: { key: keyPatterns },
        },
      },
      targets: [
        new targets.LambdaFunction(startFn, {
          retryAttempts: 8,
          maxEventAge: cdk.Duration.hours(24),
          deadLetterQueue: deadLetters,
        }),
      ],
    });

    new cdk.CfnOutput(this, 'InputBucketName', { value: input.bucketName });
    new cdk.CfnOutput(this, 'OutputBucketName', { value: output.bucketName });
    new cdk.CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachineArn });
    new cdk.CfnOutput(this, 'UploadPrefix', { value: config.uploadPrefix });
  }

  /** GPU compute environment, queue and job definition for the separation job. */
  private gpuSeparationJob(config: StackConfig, output: s3.IBucket): { queue: batch.JobQueue; definition: batch.EcsJobDefinition } {
    // Public subnets and no NAT gateway: GPU hosts pull the image from ECR over the internet
    // gateway and reach S3 through a gateway endpoint, at no hourly cost while idle.
    const vpc = new ec2.Vpc(this, 'BatchVpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });
    const computeEnvironment = new batch.ManagedEc2EcsComputeEnvironment(this, 'GpuCompute', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      instanceTypes: config.gpuInstanceTypes.map((t) => new ec2.InstanceType(t)),
      useOptimalInstanceClasses: false,
      images: [{ imageType: batch.EcsMachineImageType.ECS_AL2_NVIDIA }],
      minvCpus: 0,
      maxvCpus: config.maxGpuVcpus,
      spot: config.gpuSpot,
    });
    const queue = new batch.JobQueue(this, 'GpuQueue', {
      computeEnvironments: [{ computeEnvironment, order: 1 }],
    });
    const jobRole = new iam.Role(this, 'SeparateJobRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'stemscribe separation job: reads and writes intermediates in the output bucket only',
    });
    jobRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: [output.arnForObjects(`${WORK_PREFIX}*`)] }),
    );
    jobRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [output.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${WORK_PREFIX}*`] } },
      }),
    );
    const image = ecs.ContainerImage.fromAsset(REPO_ROOT, {
      file: 'functions/separate/Dockerfile',
      exclude: IMAGE_CONTEXT_EXCLUDES,
      ignoreMode: cdk.IgnoreMode.DOCKER,
      platform: cdk.aws_ecr_assets.Platform.LINUX_AMD64,
    });
    const definition = new batch.EcsJobDefinition(this, 'SeparateJob', {
      container: new batch.EcsEc2ContainerDefinition(this, 'SeparateContainer', {
        image,
        gpu: 1,
        cpu: 4,
        memory: cdk.Size.gibibytes(14),
        jobRole,
        environment: {
          OUTPUT_BUCKET: output.bucketName,
          SEPARATOR: config.separator,
          STEMSCRIBE_FUNCTION: 'separate-batch',
          STEMSCRIBE_EXECUTION_PROVIDERS: 'cuda,cpu',
        },
        logging: ecs.LogDriver.awsLogs({ streamPrefix: 'separate', logRetention: logs.RetentionDays.ONE_MONTH }),
      }),
      retryAttempts: 3,
      retryStrategies: [
        // Exit 65: the input is the problem; another attempt would fail the same way.
        ...BATCH_NO_RETRY_EXIT_CODES.map((code) => batch.RetryStrategy.of(batch.Action.EXIT, batch.Reason.custom({ onExitCode: code }))),
        // Anything else (exit 75, host failure, Spot reclaim): try again on a fresh host.
        batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.custom({ onReason: '*' })),
      ],
      timeout: cdk.Duration.hours(1),
    });
    return { queue, definition };
  }
}
