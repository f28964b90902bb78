import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, type CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { BridgeConfigInput } from '../../shared/config/bridge-config';
import { BridgeStack, type BridgeStackProps } from '../../infra/bridge-stack';
import { REPO_ROOT } from '../../infra/bridge-function';

/** The example configuration shipped in cdk.json (so the tests also cover what `cdk synth` deploys). */
export function exampleConfig(): BridgeConfigInput {
  const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context: { bucketBridge: BridgeConfigInput };
  };
  return structuredClone(cdkJson.context.bucketBridge);
}

export const EXAMPLE_KMS_KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** An App that skips asset bundling: fast, and no handler code is needed. */
export function testApp(props: { outdir?: string } = {}): App {
  return new App({ ...props, context: { 'aws:cdk:bundling-stacks': [] } });
}

export function synthStack(overrides: Partial<BridgeStackProps> = {}, app = testApp()) {
  const stack = new BridgeStack(app, 'BridgeTest', { config: exampleConfig(), ...overrides });
  return { app, stack, template: Template.fromStack(stack) };
}

export function logicalId(stack: BridgeStack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnResource);
}

/**
 * Flattens a CloudFormation value to a string: `Fn::Join` is joined, the partition becomes `aws`,
 * other references become `<Ref:Id>` / `<Id.Attr>`.
 */
export function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if ('Fn::Join' in v) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(flatten).join(sep);
    }
    if ('Ref' in v) return v.Ref === 'AWS::Partition' ? 'aws' : `<Ref:${String(v.Ref)}>`;
    if ('Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  }
  return JSON.stringify(value);
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** Every IAM statement of every policy (inline role policies included), keyed by the policy's logical id. */
export function allStatements(template: Template): Array<{ policy: string; statement: Statement }> {
  const out: Array<{ policy: string; statement: Statement }> = [];
  for (const [id, res] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
    for (const statement of res.Properties.PolicyDocument.Statement as Statement[]) out.push({ policy: id, statement });
  }
  for (const [id, res] of Object.entries(template.findResources('AWS::IAM::Role'))) {
    for (const p of (res.Properties.Policies ?? []) as Array<{ PolicyDocument: { Statement: Statement[] } }>) {
      for (const statement of p.PolicyDocument.Statement) out.push({ policy: id, statement });
    }
  }
  return out;
}

/** Statements of the policy attached to one function's execution role. */
export function functionStatements(template: Template, stack: BridgeStack, fnName: keyof BridgeStack['bridge']['functions']) {
  const role = stack.bridge.functions[fnName].executionRole;
  const roleId = stack.getLogicalId(role.node.defaultChild as CfnResource);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
    (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}
