/**
 * Local Lambda: invokes the handler module behind each function in the template, with the
 * function's own environment (from the template) and its timeout, and reports errors the way
 * Lambda reports them to Step Functions: error name = `errorType`, cause = the JSON payload
 * `{errorType, errorMessage, trace}`.
 */
import type { CfnTemplate } from '../infra/synth.js';
import type { LocalNames } from './intrinsics.js';
import { LAMBDA_HANDLERS, type LocalHandler, type RuntimeDeps } from './handlers.js';
import { functionEnvironment, resourcesOfType } from './template.js';

export class LambdaFunctionError extends Error {
  public constructor(errorType: string, errorMessage: string, trace: string[] = []) {
    super(JSON.stringify({ errorType, errorMessage, trace }));
    this.name = errorType;
  }
}

export interface Invocation {
  functionName: string;
  kind: string;
  startedAtMs: number;
  elapsedMs: number;
  error?: string;
}

interface LocalFunction {
  logicalId: string;
  arn: string;
  kind: string;
  env: Record<string, string>;
  timeoutSec: number;
  handler?: LocalHandler;
}

export class LocalLambda {
  public readonly invocations: Invocation[] = [];
  readonly #byName = new Map<string, LocalFunction>();

  public constructor(
    template: CfnTemplate,
    names: LocalNames,
    private readonly runtime: Omit<RuntimeDeps, 'env'>,
    /** Added to every function's environment (e.g. thread limits on a shared machine). */
    private readonly envOverrides: Record<string, string> = {},
  ) {
    for (const fn of resourcesOfType(template, 'AWS::Lambda::Function')) {
      const env = functionEnvironment(template, fn.logicalId, names);
      const kind = env.STEMSCRIBE_FUNCTION;
      // Functions without the marker are CDK's own helpers (bucket notifications, log retention).
      if (!kind) continue;
      if (!LAMBDA_HANDLERS[kind]) throw new Error(`function ${fn.logicalId}: no local handler for STEMSCRIBE_FUNCTION=${kind}`);
      const local: LocalFunction = {
        logicalId: fn.logicalId,
        arn: names.getAtt(fn.logicalId, 'Arn'),
        kind,
        env,
        timeoutSec: Number(fn.properties.Timeout ?? 3),
      };
      this.#byName.set(local.arn, local);
      this.#byName.set(fn.logicalId, local);
    }
  }

  public functionKinds(): string[] {
    return [...new Set([...this.#byName.values()].map((f) => f.kind))];
  }

  public has(nameOrArn: string): boolean {
    return this.#byName.has(nameOrArn);
  }

  public countInvocations(kind: string): number {
    return this.invocations.filter((i) => i.kind === kind).length;
  }

  /** Synchronous (RequestResponse) invoke; the payload goes through JSON both ways, as on AWS. */
  public async invoke(nameOrArn: string, payload: unknown): Promise<unknown> {
    const fn = this.#byName.get(nameOrArn);
    if (!fn) throw new LambdaFunctionError('ResourceNotFoundException', `Function not found: ${nameOrArn}`);
    const event: unknown = JSON.parse(JSON.stringify(payload ?? null));
    const started = Date.now();
    const record: Invocation = { functionName: fn.logicalId, kind: fn.kind, startedAtMs: started, elapsedMs: 0 };
    this.invocations.push(record);
    let timer: NodeJS.Timeout | undefined;
    try {
      // Built on first use and kept: a warm container, like Lambda's.
      fn.handler ??= await LAMBDA_HANDLERS[fn.kind]({ ...this.runtime, env: { ...fn.env, ...this.envOverrides } });
      const handler = fn.handler;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new LambdaFunctionError('Sandbox.Timedout', `Task timed out after ${fn.timeoutSec.toFixed(2)} seconds`)),
          fn.timeoutSec * 1000,
        );
      });
      const result = await Promise.race([handler(event), timeout]);
      return result === undefined ? null : JSON.parse(JSON.stringify(result));
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      record.error = e.name;
      if (e instanceof LambdaFunctionError) throw e;
      throw new LambdaFunctionError(e.name, e.message, (e.stack ?? '').split('\n').slice(1, 6));
    } finally {
      clearTimeout(timer);
      record.elapsedMs = Date.now() - started;
    }
  }
}
