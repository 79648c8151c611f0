/** CDK app entry (`cdk.json` runs it with tsx). Flags: see `config.ts` and infra/README.md. */
import * as cdk from 'aws-cdk-lib';
import { readStackConfig } from './config.js';
import { StemscribeStack } from './stack.js';

const app = new cdk.App();
const config = readStackConfig((key) => app.node.tryGetContext(key));
const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? 'Stemscribe';
new StemscribeStack(app, stackName, {
  config,
  description: `stemscribe: song to MIDI (separation on ${config.separation === 'batch' ? 'AWS Batch GPU' : 'CPU Lambda'})`,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
app.synth();
