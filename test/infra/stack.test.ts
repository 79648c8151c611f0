/**
 * CDK assertions on the default (GPU Batch) stack: the trigger, the workflow's states and error
 * paths, the GPU job, bucket security and least-privilege IAM. One synth for the whole file.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthStack, type CfnTemplate } from '../../infra/synth.js';
import { BATCH_NO_RETRY_EXIT_CODES } from '../../infra/stack.js';
import { localNames, referencedLogicalIds } from '../../localcloud/intrinsics.js';
import { stateMachineDefinition } from '../../localcloud/template.js';
import { matchesEventPattern } from '../../localcloud/eventPattern.js';
import { EventBridgeEvent } from './events.js';

type State = Record<string, unknown> & { Type: string; Next?: string; Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[] };

let template: Template;
let json: CfnTemplate;
let states: Record<string, State>;
let startAt: string;

const logicalIdOf = (type: string, match: (props: Record<string, unknown>) => boolean = () => true): string => {
  const found = Object.entries(json.Resources).filter(([, r]) => r.Type === type && match(r.Properties ?? {}));
  expect(found, `one ${type}`).toHaveLength(1);
  return found[0][0];
};
const bucketId = (output: 'InputBucketName' | 'OutputBucketName'): string =>
  (json.Outputs?.[output]?.Value as { Ref: string }).Ref;

beforeAll(() => {
  const synth = synthStack();
  template = Template.fromJSON(synth.template);
  json = synth.template;
  const def = stateMachineDefinition(json, localNames(json)) as { StartAt: string; States: Record<string, State> };
  states = def.States;
  startAt = def.StartAt;
});

describe('Trigger: S3 -> EventBridge -> start function', () => {
  it('enables EventBridge delivery on the input bucket only', () => {
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: bucketId('InputBucketName') },
      NotificationConfiguration: { EventBridgeConfiguration: {} },
    });
    template.resourceCountIs('Custom::S3BucketNotifications', 1);
  });

  it('matches audio uploads under uploads/ in the input bucket, and nothing else', () => {
    const rule = Object.values(json.Resources).find((r) => r.Type === 'AWS::Events::Rule');
    const props = rule?.Properties as { EventPattern: Record<string, unknown>; Targets: { Arn: unknown }[] };
    expect(props.EventPattern).toMatchObject({ source: ['aws.s3'], 'detail-type': ['Object Created'] });
    const pattern = JSON.parse(JSON.stringify(props.EventPattern).replace(JSON.stringify({ Ref: bucketId('InputBucketName') }), '"in-bucket"'));
    const ev = (key: string, bucket = 'in-bucket'): EventBridgeEvent => new EventBridgeEvent(bucket, key);
    for (const key of ['uploads/song.mp3', 'uploads/a/b/Song Name.FLAC', 'uploads/x.wav', 'uploads/x.ogg']) {
      expect(matchesEventPattern(pattern, ev(key)), key).toBe(true);
    }
    for (const key of ['song.mp3', 'results/song.mp3', 'uploads/notes.txt', 'uploads/song.mp3.part', 'work/uploads/x.wav']) {
      expect(matchesEventPattern(pattern, ev(key)), key).toBe(false);
    }
    expect(matchesEventPattern(pattern, ev('uploads/song.mp3', 'other-bucket'))).toBe(false);
    // The target is the start function, which names the execution (idempotency).
    const startFn = logicalIdOf('AWS::Lambda::Function', (p) => (p.Environment as { Variables?: Record<string, unknown> })?.Variables?.STEMSCRIBE_FUNCTION === 'start');
    expect(referencedLogicalIds(props.Targets[0].Arn)).toContain(startFn);
  });

  it('lets only the start function start the state machine', () => {
    const sm = logicalIdOf('AWS::StepFunctions::StateMachine');
    const starters = Object.entries(json.Resources).filter(
      ([, r]) =>
        r.Type === 'AWS::IAM::Policy' &&
        JSON.stringify(r.Properties).includes('states:StartExecution') &&
        referencedLogicalIds(r.Properties).has(sm),
    );
    expect(starters).toHaveLength(1);
    expect(starters[0][0]).toMatch(/^StartFunction/);
  });
});

describe('Workflow: states and error paths', () => {
  it('is a Standard state machine: Probe -> Separate -> Transcribe -> Postprocess -> Done', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineType: 'STANDARD' });
    const order: string[] = [];
    for (let s: string | undefined = startAt; s; s = states[s].Next) order.push(s);
    expect(order).toEqual(['Probe', 'Separate', 'Transcribe', 'Postprocess', 'Done']);
    expect(states.Done.Type).toBe('Succeed');
  });

  it('passes only keys and small results in the state (ResultPath per stage)', () => {
    expect(states.Probe.ResultPath).toBe('$.probe');
    expect(states.Separate.ResultPath).toBe('$.separate');
    expect(states.Separate.ResultSelector).toEqual({ 'jobId.$': '$.JobId', 'status.$': '$.Status' });
    expect(states.Transcribe.ResultPath).toBe('$.transcribe');
  });

  it.each(['Probe', 'Separate', 'Transcribe', 'Postprocess'])('%s: retries transient errors with backoff, catches everything into the error record', (name) => {
    const state = states[name];
    const retry = state.Retry as { ErrorEquals: string[]; BackoffRate: number; MaxAttempts: number; IntervalSeconds: number }[];
    expect(retry.length).toBeGreaterThan(0);
    for (const r of retry) {
      expect(r.BackoffRate).toBeGreaterThan(1);
      expect(r.MaxAttempts).toBeGreaterThanOrEqual(2);
      // Retrying everything would re-run bad input: user errors must not be in a retrier.
      expect(r.ErrorEquals).not.toContain('States.ALL');
      expect(r.ErrorEquals).not.toContain('InputError');
    }
    expect(state.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: `${name}Failed` }]);
    const mark = states[`${name}Failed`];
    expect(mark).toMatchObject({ Type: 'Pass', Result: name.toLowerCase(), ResultPath: '$.failedStage', Next: 'RecordFailure' });
  });

  it('Lambda stages retry TransientError; every Task has a timeout or a Batch attempt timeout', () => {
    for (const name of ['Probe', 'Transcribe', 'Postprocess', 'RecordFailure']) {
      expect((states[name].Retry as { ErrorEquals: string[] }[])[0].ErrorEquals).toContain('TransientError');
      expect(states[name].TimeoutSeconds).toBeGreaterThan(0);
    }
    expect((states.Separate.Parameters as { Timeout?: { AttemptDurationSeconds: number } }).Timeout?.AttemptDurationSeconds).toBeGreaterThan(0);
  });

  it('fails the execution with the reason from the error record', () => {
    expect(states.RecordFailure).toMatchObject({ Type: 'Task', ResultPath: '$.failure', Next: 'Failed' });
    expect(states.Failed).toEqual({ Type: 'Fail', ErrorPath: '$.failure.error', CausePath: '$.failure.cause' });
    // If the record cannot be written, the original error still fails the execution.
    expect(states.RecordFailure.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.reportError', Next: 'FailedUnreported' }]);
    expect(states.FailedUnreported).toEqual({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
  });
});

describe('Separation: AWS Batch GPU job (.sync)', () => {
  it('runs the job to completion with the run work prefix as a container override', () => {
    expect(states.Separate.Resource).toBe('arn:aws:states:::batch:submitJob.sync');
    expect(states.Separate.Parameters).toMatchObject({
      'JobName.$': '$$.Execution.Name',
      ContainerOverrides: { Environment: [{ Name: 'WORK_PREFIX', 'Value.$': '$.workPrefix' }] },
    });
  });

  it('requests one GPU on a GPU instance family with the NVIDIA ECS AMI', () => {
    template.hasResourceProperties('AWS::Batch::JobDefinition', {
      Type: 'container',
      ContainerProperties: Match.objectLike({
        ResourceRequirements: Match.arrayWith([{ Type: 'GPU', Value: '1' }]),
        Environment: Match.arrayWith([{ Name: 'STEMSCRIBE_EXECUTION_PROVIDERS', Value: 'cuda,cpu' }]),
      }),
    });
    const ce = Object.values(json.Resources).find((r) => r.Type === 'AWS::Batch::ComputeEnvironment')?.Properties as {
      ComputeResources: { InstanceTypes: string[]; Ec2Configuration: { ImageType: string }[]; MinvCpus: number };
    };
    expect(ce.ComputeResources.InstanceTypes.length).toBeGreaterThan(0);
    for (const t of ce.ComputeResources.InstanceTypes) expect(t).toMatch(/^(g4dn|g5|g6|p3|p4d|p5)\./);
    expect(ce.ComputeResources.Ec2Configuration[0].ImageType).toBe('ECS_AL2_NVIDIA');
    // Scales to zero: no GPU bill while idle.
    expect(ce.ComputeResources.MinvCpus).toBe(0);
  });

  it('does not retry bad input (exit 65) but retries anything else', () => {
    template.hasResourceProperties('AWS::Batch::JobDefinition', {
      RetryStrategy: {
        Attempts: 3,
        EvaluateOnExit: [
          ...BATCH_NO_RETRY_EXIT_CODES.map((code) => ({ Action: 'EXIT', OnExitCode: code })),
          { Action: 'RETRY', OnReason: '*' },
        ],
      },
    });
  });
});

describe('Buckets', () => {
  it.each(['InputBucketName', 'OutputBucketName'] as const)('%s: encrypted, private, TLS only, retained', (output) => {
    const id = bucketId(output);
    const bucket = json.Resources[id];
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    expect(bucket.DeletionPolicy).toBe('Retain');
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('expires intermediates under work/ and aborts stale multipart uploads', () => {
    const rules = (json.Resources[bucketId('OutputBucketName')].Properties as { LifecycleConfiguration: { Rules: Record<string, unknown>[] } })
      .LifecycleConfiguration.Rules;
    expect(rules).toContainEqual(expect.objectContaining({ Prefix: 'work/', ExpirationInDays: 7, Status: 'Enabled' }));
    expect(rules).toContainEqual(expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }));
    const inputRules = (json.Resources[bucketId('InputBucketName')].Properties as { LifecycleConfiguration: { Rules: Record<string, unknown>[] } })
      .LifecycleConfiguration.Rules;
    // Uploads themselves never expire.
    expect(inputRules.some((r) => 'ExpirationInDays' in r)).toBe(false);
  });
});

describe('IAM: least privilege, scoped to the two buckets', () => {
  const s3Statements = (): { policy: string; statement: { Action: string | string[]; Resource: unknown; Effect: string } }[] =>
    Object.entries(json.Resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
      .flatMap(([policy, r]) =>
        ((r.Properties as { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown; Effect: string }[] } }).PolicyDocument
          .Statement).map((statement) => ({ policy, statement })),
      )
      .filter(({ statement }) => [statement.Action].flat().some((a) => a.startsWith('s3:')));

  it('grants S3 actions only on the input and output buckets, never s3:* or *', () => {
    const buckets = new Set([bucketId('InputBucketName'), bucketId('OutputBucketName')]);
    const ours = s3Statements().filter(({ policy }) => !policy.includes('NotificationsHandler'));
    expect(ours.length).toBeGreaterThan(5);
    for (const { policy, statement } of ours) {
      expect([statement.Action].flat(), policy).not.toContain('s3:*');
      expect(statement.Resource, policy).not.toBe('*');
      const refs = referencedLogicalIds(statement.Resource);
      expect(refs.size, `${policy} names a bucket`).toBeGreaterThan(0);
      for (const ref of refs) expect(buckets.has(ref), `${policy} -> ${ref}`).toBe(true);
    }
  });

  it('nothing can delete or overwrite uploads; only probe reads them', () => {
    const input = bucketId('InputBucketName');
    const all = s3Statements().filter(({ statement }) => referencedLogicalIds(statement.Resource).has(input));
    // CDK's own bucket-notification handler only configures EventBridge delivery.
    const cdkHandler = all.filter(({ policy }) => policy.includes('NotificationsHandler'));
    for (const { statement } of cdkHandler) expect([statement.Action].flat()).toEqual(['s3:PutBucketNotification']);
    const onInput = all.filter(({ policy }) => !policy.includes('NotificationsHandler'));
    expect(onInput.length).toBeGreaterThan(0);
    const policies = new Set(onInput.map((s) => s.policy));
    expect([...policies].every((p) => p.startsWith('ProbeFunction'))).toBe(true);
    for (const { statement } of onInput) {
      for (const action of [statement.Action].flat()) expect(['s3:GetObject', 's3:ListBucket']).toContain(action);
    }
  });

  it('deletes are limited to stale error records', () => {
    for (const { statement } of s3Statements()) {
      if (![statement.Action].flat().includes('s3:DeleteObject')) continue;
      expect(JSON.stringify(statement.Resource)).toContain('/results/*.error.json');
    }
  });
});

describe('Functions', () => {
  const byKind = (kind: string): Record<string, unknown> => {
    const id = logicalIdOf('AWS::Lambda::Function', (p) => (p.Environment as { Variables?: Record<string, unknown> })?.Variables?.STEMSCRIBE_FUNCTION === kind);
    return json.Resources[id].Properties ?? {};
  };

  it('transcribe is a container-image Lambda; probe, postprocess, start are bundled Node 22 zips', () => {
    expect(byKind('transcribe').PackageType).toBe('Image');
    for (const kind of ['probe', 'postprocess', 'start', 'report-failure']) {
      expect(byKind(kind)).toMatchObject({ Runtime: 'nodejs22.x', Handler: 'index.handler' });
    }
  });

  it('rejects an unknown context value at synth time, naming the flag', () => {
    expect(() => synthStack({ config: { separation: 'gpu' as 'batch' } })).toThrow(/separation/);
  });
});
