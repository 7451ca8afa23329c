import { describe, expect, it } from 'vitest';
import type { CfnTemplate } from './cloud-assembly.js';
import { creationOrder, evaluateConditions, resolve, type ResolveContext } from './intrinsics.js';

const context = (): ResolveContext => ({
  region: 'eu-west-1',
  account: '123456789012',
  stackName: 'Report',
  physical: new Map([
    ['Bucket', { ref: 'report-bucket-1', attributes: { Arn: 'arn:aws:s3:::report-bucket-1' } }],
    ['Fn', { ref: 'report-fn', attributes: { Arn: 'arn:aws:lambda:eu-west-1:123456789012:function:report-fn' } }],
  ]),
  parameters: { Stage: 'prod' },
  conditions: { IsProd: true },
});

describe('resolve', () => {
  it('resolves Ref, GetAtt (both forms), Join, Sub (with variables, attributes and ${!literal}), Select, Split, If, pseudo parameters', () => {
    const ctx = context();
    expect(resolve({ Ref: 'Bucket' }, ctx)).toBe('report-bucket-1');
    expect(resolve({ 'Fn::GetAtt': ['Fn', 'Arn'] }, ctx)).toContain(':function:report-fn');
    expect(resolve({ 'Fn::GetAtt': 'Bucket.Arn' }, ctx)).toBe('arn:aws:s3:::report-bucket-1');
    expect(resolve({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:', { Ref: 'AWS::Region' }, '::foundation-model/m']] }, ctx)).toBe(
      'arn:aws:bedrock:eu-west-1::foundation-model/m',
    );
    expect(resolve({ 'Fn::Sub': '${Bucket.Arn}/*:${AWS::AccountId}:${!Literal}:${Stage}' }, ctx)).toBe(
      'arn:aws:s3:::report-bucket-1/*:123456789012:${Literal}:prod',
    );
    expect(resolve({ 'Fn::Sub': ['${X}-${Bucket}', { X: { Ref: 'AWS::URLSuffix' } }] }, ctx)).toBe('amazonaws.com-report-bucket-1');
    expect(resolve({ 'Fn::Select': [1, { 'Fn::Split': [':', 'a:b:c'] }] }, ctx)).toBe('b');
    expect(resolve({ 'Fn::If': ['IsProd', 'yes', 'no'] }, ctx)).toBe('yes');
    expect(resolve({ Tags: [{ 'Fn::If': ['IsProd', { Ref: 'AWS::NoValue' }, 'x'] }, 'kept'] }, ctx)).toEqual({ Tags: ['kept'] });
  });

  it('names what is not there: a resource not created yet, an attribute it does not know', () => {
    expect(() => resolve({ Ref: 'Queue' }, context())).toThrow(/Ref Queue: .*not created/);
    expect(() => resolve({ 'Fn::GetAtt': ['Bucket', 'WebsiteURL'] }, context())).toThrow(/knows Arn/);
  });
});

describe('creationOrder and conditions', () => {
  const template: CfnTemplate = {
    Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] }, NotProd: { 'Fn::Not': [{ Condition: 'IsProd' }] } },
    Resources: {
      Machine: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: { RoleArn: { 'Fn::GetAtt': ['Role', 'Arn'] }, DefinitionSubstitutions: { fn: { 'Fn::Sub': '${Fn.Arn}' } } },
      },
      Fn: { Type: 'AWS::Lambda::Function', DependsOn: ['Policy'], Properties: { Role: { 'Fn::GetAtt': ['Role', 'Arn'] } } },
      Policy: { Type: 'AWS::IAM::Policy', Properties: { Roles: [{ Ref: 'Role' }] } },
      Role: { Type: 'AWS::IAM::Role' },
    },
  };
  it('puts every resource after what it references (Ref, GetAtt, Sub, DependsOn)', () => {
    const order = creationOrder(template);
    const at = (id: string): number => order.indexOf(id);
    expect(at('Role')).toBeLessThan(at('Policy'));
    expect(at('Policy')).toBeLessThan(at('Fn'));
    expect(at('Fn')).toBeLessThan(at('Machine'));
  });
  it('evaluates conditions over parameters', () => {
    expect(evaluateConditions(template, { ...context(), parameters: { Stage: 'dev' } })).toEqual({ IsProd: false, NotProd: true });
  });
  it('refuses a cycle, naming it', () => {
    expect(() => creationOrder({ Resources: { A: { Type: 'X', DependsOn: 'B' }, B: { Type: 'X', Properties: { a: { Ref: 'A' } } } } })).toThrow(
      /circular dependency: A -> B -> A/,
    );
  });
});
