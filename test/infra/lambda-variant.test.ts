/** `-c separation=lambda`: no Batch, no VPC; separation is a CPU container-image Lambda. */
import { beforeAll, describe, expect, it } from 'vitest';
import { synthStack, type CfnTemplate } from '../../infra/synth.js';
import { localNames } from '../../localcloud/intrinsics.js';
import { stateMachineDefinition } from '../../localcloud/template.js';

let json: CfnTemplate;
beforeAll(() => {
  json = synthStack({ config: { separation: 'lambda', separator: 'none' } }).template;
});

describe('Stack with -c separation=lambda', () => {
  it('has no Batch or VPC resources', () => {
    const types = new Set(Object.values(json.Resources).map((r) => r.Type));
    for (const t of [...types]) expect(t).not.toMatch(/^AWS::(Batch|EC2)::/);
  });

  it('invokes a CPU container-image Lambda for Separate, with the same retry and catch', () => {
    const def = stateMachineDefinition(json, localNames(json)) as { States: Record<string, Record<string, unknown>> };
    const separate = def.States.Separate;
    expect(String(separate.Resource)).toMatch(/^arn:aws:lambda:.*:function:SeparateFunction/);
    expect(separate.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'SeparateFailed' }]);
    expect((separate.Retry as { ErrorEquals: string[] }[])[0].ErrorEquals).toContain('TransientError');
    const fn = Object.values(json.Resources).find(
      (r) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties).includes('"STEMSCRIBE_FUNCTION":"separate"'),
    );
    expect(fn?.Properties).toMatchObject({ PackageType: 'Image', MemorySize: 10240, Timeout: 900 });
    expect(JSON.stringify(fn?.Properties)).toContain('"SEPARATOR":"none"');
  });
});
