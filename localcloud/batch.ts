/**
 * Local AWS Batch for the `batch:submitJob.sync` integration: finds the job definition in the
 * template, runs its container's code in-process with the definition's environment plus the
 * workflow's container overrides, and applies the definition's retry strategy (attempts,
 * EvaluateOnExit by exit code / reason) as Batch does. A failed job surfaces to Step Functions
 * as `States.TaskFailed` with the job description as the cause, as the real integration does.
 */
import { randomUUID } from 'node:crypto';
import type { CfnTemplate } from '../infra/synth.js';
import type { LocalNames } from './intrinsics.js';
import { BATCH_JOBS, type RuntimeDeps } from './handlers.js';
import { resourcesOfType } from './template.js';
import { resolveIntrinsics } from './intrinsics.js';

interface EvaluateOnExit {
  Action: string;
  OnExitCode?: string;
  OnReason?: string;
  OnStatusReason?: string;
}

interface JobDefinition {
  arn: string;
  logicalId: string;
  kind: string;
  env: Record<string, string>;
  attempts: number;
  evaluateOnExit: EvaluateOnExit[];
  gpuCount: number;
}

export interface SubmitJobParameters {
  JobDefinition: string;
  JobName: string;
  JobQueue: string;
  ContainerOverrides?: { Environment?: { Name: string; Value: string }[]; Command?: string[] };
}

export interface JobAttempt {
  exitCode: number;
  startedAtMs: number;
  stoppedAtMs: number;
}

export interface JobDescription {
  JobId: string;
  JobName: string;
  JobQueue: string;
  JobDefinition: string;
  Status: 'SUCCEEDED' | 'FAILED';
  StatusReason?: string;
  Attempts: { Container: { ExitCode: number }; StartedAt: number; StoppedAt: number }[];
  Container: { ExitCode: number; Environment: { Name: string; Value: string }[] };
}

export class BatchTaskFailed extends Error {
  public constructor(description: JobDescription) {
    super(JSON.stringify(description));
    this.name = 'States.TaskFailed';
  }
}

/** Batch's glob: exact, or a prefix ending in `*`. */
function globMatch(pattern: string | undefined, value: string | undefined): boolean {
  if (pattern === undefined) return true;
  const v = value ?? '';
  return pattern.endsWith('*') ? v.startsWith(pattern.slice(0, -1)) : v === pattern;
}

export class LocalBatch {
  public readonly jobs: JobDescription[] = [];
  readonly #definitions = new Map<string, JobDefinition>();
  readonly #queues = new Set<string>();

  public constructor(
    template: CfnTemplate,
    names: LocalNames,
    private readonly runtime: Omit<RuntimeDeps, 'env'>,
    private readonly envOverrides: Record<string, string> = {},
  ) {
    for (const q of resourcesOfType(template, 'AWS::Batch::JobQueue')) this.#queues.add(names.ref(q.logicalId));
    for (const def of resourcesOfType(template, 'AWS::Batch::JobDefinition')) {
      const props = resolveIntrinsics(def.properties, names) as {
        ContainerProperties?: {
          Environment?: { Name: string; Value: string }[];
          ResourceRequirements?: { Type: string; Value: string }[];
        };
        RetryStrategy?: { Attempts?: number; EvaluateOnExit?: EvaluateOnExit[] };
      };
      const env = Object.fromEntries((props.ContainerProperties?.Environment ?? []).map((e) => [e.Name, e.Value]));
      const kind = env.STEMSCRIBE_FUNCTION;
      if (!kind || !BATCH_JOBS[kind]) throw new Error(`job definition ${def.logicalId}: no local job for STEMSCRIBE_FUNCTION=${kind}`);
      const gpu = props.ContainerProperties?.ResourceRequirements?.find((r) => r.Type === 'GPU');
      const arn = names.ref(def.logicalId);
      this.#definitions.set(arn, {
        arn,
        logicalId: def.logicalId,
        kind,
        env,
        attempts: props.RetryStrategy?.Attempts ?? 1,
        evaluateOnExit: props.RetryStrategy?.EvaluateOnExit ?? [],
        gpuCount: gpu ? Number(gpu.Value) : 0,
      });
    }
  }

  /** Runs the job to completion (the `.sync` pattern) and returns its description. */
  public async submitJobSync(params: SubmitJobParameters): Promise<JobDescription> {
    const def = this.#definitions.get(params.JobDefinition);
    if (!def) throw Object.assign(new Error(`Job definition ${params.JobDefinition} not found`), { name: 'Batch.ClientException' });
    if (!this.#queues.has(params.JobQueue)) {
      throw Object.assign(new Error(`Job queue ${params.JobQueue} not found`), { name: 'Batch.ClientException' });
    }
    const overrides = params.ContainerOverrides?.Environment ?? [];
    const env = { ...def.env, ...Object.fromEntries(overrides.map((e) => [e.Name, e.Value])), ...this.envOverrides };
    // A fresh container per job: the environment includes this job's overrides.
    const job = await BATCH_JOBS[def.kind]({ ...this.runtime, env });
    const attempts: JobAttempt[] = [];
    for (;;) {
      const startedAtMs = Date.now();
      let exitCode: number;
      try {
        exitCode = await job(params.ContainerOverrides?.Command ?? []);
      } catch {
        exitCode = 1;
      }
      attempts.push({ exitCode, startedAtMs, stoppedAtMs: Date.now() });
      if (exitCode === 0) break;
      const rule = def.evaluateOnExit.find(
        (r) => globMatch(r.OnExitCode, String(exitCode)) && globMatch(r.OnReason, undefined) && globMatch(r.OnStatusReason, undefined),
      );
      // Batch retries when no rule matches, and while attempts remain.
      const action = (rule?.Action ?? 'RETRY').toUpperCase();
      if (action === 'EXIT' || attempts.length >= def.attempts) break;
    }
    const last = attempts[attempts.length - 1];
    const description: JobDescription = {
      JobId: randomUUID(),
      JobName: params.JobName,
      JobQueue: params.JobQueue,
      JobDefinition: def.arn,
      Status: last.exitCode === 0 ? 'SUCCEEDED' : 'FAILED',
      ...(last.exitCode === 0 ? {} : { StatusReason: 'Essential container in task exited' }),
      Attempts: attempts.map((a) => ({ Container: { ExitCode: a.exitCode }, StartedAt: a.startedAtMs, StoppedAt: a.stoppedAtMs })),
      Container: { ExitCode: last.exitCode, Environment: Object.entries(env).map(([Name, Value]) => ({ Name, Value })) },
    };
    this.jobs.push(description);
    if (description.Status === 'FAILED') throw new BatchTaskFailed(description);
    return description;
  }

  public gpuCountOf(jobDefinitionArn: string): number {
    return this.#definitions.get(jobDefinitionArn)?.gpuCount ?? 0;
  }
}
