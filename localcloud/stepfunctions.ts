/**
 * Local Step Functions: runs the template's state machine with aws-local-stepfunctions (which
 * implements the ASL: paths, Retry with backoff and jitter, Catch, Fail with ErrorPath/CausePath)
 * and routes every Task state by its Resource to the local Lambda or Batch. Exposes the
 * Step Functions API (JSON 1.0 protocol) on 127.0.0.1 for StartExecution, DescribeExecution,
 * ListExecutions and StopExecution, so the start function's real SDK call works unchanged,
 * including Standard workflows' refusal of a second execution with the same name.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { CfnTemplate } from '../infra/synth.js';
import type { LocalBatch, SubmitJobParameters } from './batch.js';
import { LOCAL_ACCOUNT, LOCAL_REGION, type LocalNames } from './intrinsics.js';
import type { LocalLambda } from './lambda.js';
import { resourcesOfType, stateMachineDefinition } from './template.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface StateTiming {
  name: string;
  type: string;
  enteredAtMs: number;
  exitedAtMs?: number;
  /** Retries, failures and catches seen while in the state. */
  retries: number;
  failed: boolean;
  caught: boolean;
}

export interface LocalExecution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  startDateMs: number;
  stopDateMs?: number;
  states: StateTiming[];
  done: Promise<void>;
  abort: () => void;
}

class ApiError extends Error {
  public constructor(
    public readonly type: string,
    message: string,
    public readonly status = 400,
  ) {
    super(message);
  }
}

/**
 * AWS applies no timeout to a Task state that names none (the execution's own limit still holds);
 * aws-local-stepfunctions would apply 60 s. 2,000,000 s (23 days) is "none" in practice and still
 * fits Node's 32-bit timer.
 */
const AWS_DEFAULT_TASK_TIMEOUT_SEC = 2_000_000;

type Definition = Record<string, unknown> & { States: Record<string, Record<string, unknown>> };

function forEachState(def: Definition, visit: (name: string, state: Record<string, unknown>) => void): void {
  for (const [name, state] of Object.entries(def.States)) {
    visit(name, state);
    for (const branch of (state.Branches as Definition[] | undefined) ?? []) forEachState(branch, visit);
    const inner = (state.ItemProcessor ?? state.Iterator) as Definition | undefined;
    if (inner) forEachState(inner, visit);
  }
}

export class LocalStepFunctions {
  readonly #machines = new Map<string, { definition: Definition; name: string }>();
  readonly #executions = new Map<string, LocalExecution>();
  #server?: Server;
  public endpoint = '';

  public constructor(
    template: CfnTemplate,
    names: LocalNames,
    private readonly lambda: LocalLambda,
    private readonly batch: LocalBatch,
  ) {
    for (const sm of resourcesOfType(template, 'AWS::StepFunctions::StateMachine')) {
      const definition = stateMachineDefinition(template, names, sm.logicalId) as Definition;
      const type = (sm.properties.StateMachineType as string | undefined) ?? 'STANDARD';
      if (type !== 'STANDARD') throw new Error(`${sm.logicalId}: only STANDARD state machines are emulated`);
      // Fail at boot, not mid-run, if a Task state's service is not emulated.
      forEachState(definition, (name, state) => {
        if (state.Type === 'Task') this.routeFor(name, String(state.Resource));
      });
      this.#machines.set(names.ref(sm.logicalId), { definition, name: sm.logicalId });
    }
  }

  /** The local function behind one Task state's Resource. */
  private routeFor(stateName: string, resource: string): (input: Json) => Promise<Json> {
    if (resource.startsWith('arn:aws:lambda:')) {
      if (!this.lambda.has(resource)) throw new Error(`state ${stateName}: unknown function ${resource}`);
      return async (input) => (await this.lambda.invoke(resource, input)) as Json;
    }
    if (resource === 'arn:aws:states:::lambda:invoke') {
      return async (input) => {
        const params = input as { FunctionName: string; Payload?: Json };
        const payload = await this.lambda.invoke(params.FunctionName, params.Payload ?? null);
        return { ExecutedVersion: '$LATEST', Payload: payload as Json, StatusCode: 200 };
      };
    }
    if (resource === 'arn:aws:states:::batch:submitJob.sync') {
      return async (input) => (await this.batch.submitJobSync(input as unknown as SubmitJobParameters)) as unknown as Json;
    }
    throw new Error(`state ${stateName}: resource ${resource} is not emulated by the local cloud`);
  }

  public stateMachineArns(): string[] {
    return [...this.#machines.keys()];
  }

  public executions(): LocalExecution[] {
    return [...this.#executions.values()];
  }

  public execution(nameOrArn: string): LocalExecution | undefined {
    return this.#executions.get(nameOrArn) ?? this.executions().find((e) => e.name === nameOrArn);
  }

  public startExecution(stateMachineArn: string, name: string, input: string): LocalExecution {
    const machine = this.#machines.get(stateMachineArn);
    if (!machine) throw new ApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) throw new ApiError('InvalidName', `Invalid Name: '${name}'`);
    const executionArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${machine.name}:${name}`;
    const existing = this.#executions.get(executionArn);
    if (existing) {
      // Standard workflows: same name + same input while running returns the running execution;
      // anything else with a used name is refused (for 90 days on AWS).
      if (existing.status === 'RUNNING' && existing.input === input) return existing;
      throw new ApiError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const definition = structuredClone(machine.definition);
    const overrides: Record<string, (input: Json) => Promise<Json>> = {};
    forEachState(definition, (stateName, state) => {
      if (state.Type !== 'Task') return;
      overrides[stateName] = this.routeFor(stateName, String(state.Resource));
      if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
        state.TimeoutSeconds = AWS_DEFAULT_TASK_TIMEOUT_SEC;
      }
    });
    const sm = new StateMachine(definition as unknown as StateMachineDefinition, {
      validationOptions: { checkArn: false },
    });
    const startDateMs = Date.now();
    const run = sm.run(JSON.parse(input) as Json, {
      overrides: { taskResourceLocalHandlers: overrides },
      context: {
        Execution: { Id: executionArn, Name: name, RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/local` },
        StateMachine: { Id: stateMachineArn, Name: machine.name },
      },
    });
    const execution: LocalExecution = {
      executionArn,
      stateMachineArn,
      name,
      status: 'RUNNING',
      input,
      startDateMs,
      states: [],
      done: Promise.resolve(),
      abort: run.abort,
    };
    const collectEvents = (async () => {
      const open = new Map<string, StateTiming>();
      for await (const event of run.eventLogs) {
        if (!('state' in event) || event.index !== undefined) {
          if (event.type === 'ExecutionFailed') {
            execution.error = event.Error;
            execution.cause = typeof event.Cause === 'string' ? event.Cause : JSON.stringify(event.Cause);
          }
          continue;
        }
        const { name: stateName, type } = event.state;
        if (event.type === 'StateEntered') {
          const timing: StateTiming = { name: stateName, type, enteredAtMs: event.timestamp, retries: 0, failed: false, caught: false };
          open.set(stateName, timing);
          execution.states.push(timing);
          continue;
        }
        const timing = open.get(stateName);
        if (!timing) continue;
        if (event.type === 'StateRetried') timing.retries += 1;
        else if (event.type === 'StateFailed') timing.failed = true;
        else if (event.type === 'StateCaught') {
          timing.caught = true;
          timing.exitedAtMs = event.timestamp;
        }
        else if (event.type === 'StateExited') timing.exitedAtMs = event.timestamp;
        if (event.type === 'StateCaught' || event.type === 'StateExited') open.delete(stateName);
      }
    })();
    execution.done = (async () => {
      try {
        const output = await run.result;
        execution.output = JSON.stringify(output);
        execution.status = 'SUCCEEDED';
      } catch (error) {
        const e = error as Error;
        execution.status = e.name === 'ExecutionTimeoutError' ? 'TIMED_OUT' : e.name === 'ExecutionAbortedError' ? 'ABORTED' : 'FAILED';
      }
      await collectEvents;
      // The failing state's own (pre-Catch) failure is in the event log; the execution-level
      // error and cause come from the ExecutionFailed event.
      execution.stopDateMs = Date.now();
    })();
    this.#executions.set(executionArn, execution);
    return execution;
  }

  /** Resolves when no execution is running. */
  public async waitForAll(): Promise<void> {
    for (;;) {
      const running = this.executions().filter((e) => e.status === 'RUNNING');
      if (running.length === 0) return;
      await Promise.all(running.map((e) => e.done));
    }
  }

  // ---- Step Functions API (AWS JSON 1.0) ------------------------------------------------------

  private describe(e: LocalExecution): Record<string, unknown> {
    return {
      executionArn: e.executionArn,
      stateMachineArn: e.stateMachineArn,
      name: e.name,
      status: e.status,
      startDate: e.startDateMs / 1000,
      ...(e.stopDateMs ? { stopDate: e.stopDateMs / 1000 } : {}),
      input: e.input,
      ...(e.output !== undefined ? { output: e.output } : {}),
      ...(e.error !== undefined ? { error: e.error } : {}),
      ...(e.cause !== undefined ? { cause: e.cause } : {}),
    };
  }

  private handle(operation: string, body: Record<string, unknown>): unknown {
    switch (operation) {
      case 'StartExecution': {
        const name = typeof body.name === 'string' ? body.name : crypto.randomUUID();
        const e = this.startExecution(String(body.stateMachineArn), name, typeof body.input === 'string' ? body.input : '{}');
        return { executionArn: e.executionArn, startDate: e.startDateMs / 1000 };
      }
      case 'DescribeExecution': {
        const e = this.#executions.get(String(body.executionArn));
        if (!e) throw new ApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(body.executionArn)}'`);
        return this.describe(e);
      }
      case 'ListExecutions': {
        const list = this.executions()
          .filter((e) => e.stateMachineArn === body.stateMachineArn)
          .filter((e) => !body.statusFilter || e.status === body.statusFilter)
          .map((e) => {
            const { input: _i, output: _o, error: _e, cause: _c, ...rest } = this.describe(e);
            return rest;
          });
        return { executions: list };
      }
      case 'StopExecution': {
        const e = this.#executions.get(String(body.executionArn));
        if (!e) throw new ApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(body.executionArn)}'`);
        e.abort();
        return { stopDate: Date.now() / 1000 };
      }
      default:
        throw new ApiError('UnknownOperationException', `${operation} is not emulated`);
    }
  }

  public async listen(): Promise<string> {
    this.#server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? '');
        const operation = target.split('.').pop() ?? '';
        res.setHeader('Content-Type', 'application/x-amz-json-1.0');
        try {
          const body = (chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {}) as Record<string, unknown>;
          res.statusCode = 200;
          res.end(JSON.stringify(this.handle(operation, body)));
        } catch (error) {
          const e = error instanceof ApiError ? error : new ApiError('InternalFailure', String(error), 500);
          res.statusCode = e.status;
          res.setHeader('x-amzn-ErrorType', e.type);
          res.end(JSON.stringify({ __type: e.type, message: e.message }));
        }
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.#server.address() as AddressInfo;
    this.endpoint = `http://127.0.0.1:${port}`;
    return this.endpoint;
  }

  public async close(): Promise<void> {
    for (const e of this.executions()) if (e.status === 'RUNNING') e.abort();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}
