import { describe, expect, it } from 'vitest';
import type { CfnTemplate } from '../../infra/synth.js';
import { localNames, referencedLogicalIds, resolveIntrinsics } from '../../localcloud/intrinsics.js';

const template: CfnTemplate = {
  Resources: {
    Out: { Type: 'AWS::S3::Bucket' },
    Fn: { Type: 'AWS::Lambda::Function' },
    Sm: { Type: 'AWS::StepFunctions::StateMachine' },
    Jd: { Type: 'AWS::Batch::JobDefinition' },
  },
};
const names = localNames(template);

describe('Function: resolveIntrinsics', () => {
  it('resolves Ref, GetAtt, Join, Sub, Select, Split and pseudo parameters', () => {
    const value = {
      bucket: { Ref: 'Out' },
      fn: { 'Fn::GetAtt': ['Fn', 'Arn'] },
      arn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:::batch:submitJob.sync']] },
      sub: { 'Fn::Sub': ['${Out}/work/${Key}', { Key: 'x' }] },
      subAtt: { 'Fn::Sub': '${Fn.Arn}@${AWS::Region}' },
      pick: { 'Fn::Select': [1, { 'Fn::Split': [',', 'a,b,c'] }] },
      nested: [{ Ref: 'Sm' }, { Ref: 'Jd' }],
    };
    expect(resolveIntrinsics(value, names)).toEqual({
      bucket: 'local-out',
      fn: 'arn:aws:lambda:us-east-1:000000000000:function:Fn',
      arn: 'arn:aws:states:::batch:submitJob.sync',
      sub: 'local-out/work/x',
      subAtt: 'arn:aws:lambda:us-east-1:000000000000:function:Fn@us-east-1',
      pick: 'b',
      nested: ['arn:aws:states:us-east-1:000000000000:stateMachine:Sm', 'arn:aws:batch:us-east-1:000000000000:job-definition/Jd:1'],
    });
  });

  it('refuses intrinsics it does not implement and unknown resources', () => {
    expect(() => resolveIntrinsics({ 'Fn::If': ['C', 1, 2] }, names)).toThrow(/Fn::If/);
    expect(() => resolveIntrinsics({ Ref: 'Nope' }, names)).toThrow(/Nope/);
  });

  it('lists the logical IDs a value refers to', () => {
    expect([...referencedLogicalIds({ a: [{ Ref: 'Out' }, { 'Fn::GetAtt': ['Fn', 'Arn'] }, { Ref: 'AWS::Region' }] })].sort()).toEqual(['Fn', 'Out']);
  });
});
