/**
 * Synthesizes the stack in-process and returns its CloudFormation template: used by the CDK
 * assertion tests and by the local cloud, which runs what this produces (rule pattern, state
 * machine definition, function environments), not a copy of it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { stackConfigSchema, type StackConfig } from './config.js';
import { StemscribeStack } from './stack.js';

export interface SynthOptions {
  config?: Partial<StackConfig>;
  /**
   * Run esbuild for the bundled functions (default false: tests and the local cloud run the
   * handler modules, and bundling needs every module the handlers import to exist).
   */
  bundle?: boolean;
  outdir?: string;
}

/** CloudFormation template, as plain JSON. */
export type CfnTemplate = {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; [k: string]: unknown }>;
  Outputs?: Record<string, { Value: unknown }>;
  [k: string]: unknown;
};

export interface SynthResult {
  app: cdk.App;
  stack: StemscribeStack;
  template: CfnTemplate;
  config: StackConfig;
  outdir: string;
}

export function synthStack(options: SynthOptions = {}): SynthResult {
  const config = stackConfigSchema.parse(options.config ?? {});
  const outdir = options.outdir ?? mkdtempSync(join(tmpdir(), 'stemscribe-cdk-'));
  const app = new cdk.App({
    outdir,
    context: {
      // Without bundling, assets are only fingerprinted (Docker images are never built at
      // synth); not staging them avoids copying build contexts into cdk.out on every test run.
      ...(options.bundle ? {} : { 'aws:cdk:disable-asset-staging': true, 'aws:cdk:bundling-stacks': [] }),
    },
  });
  const stack = new StemscribeStack(app, 'Stemscribe', { config });
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as CfnTemplate;
  return { app, stack, template, config, outdir };
}
