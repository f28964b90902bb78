import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, type CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { BridgeStack } from '../../infra/bridge-stack';
import type { BridgeFunctionName } from '../../infra/bucket-bridge';
import type { BridgeConfigInput } from '../../shared/config/bridge-config';

export const FUNCTION_NAMES: readonly BridgeFunctionName[] = ['scheduled-run', 'continue-submission', 'object-created', 'webhook', 'start-job', 'export', 'submit-partition'];

/** Test-only endpoints every harness process needs (never set in a deployment). */
const LOCAL_NAMES = new Set(['DYNAMODB_ENDPOINT', 'SQS_ENDPOINT', 'SECRETS_ENDPOINT', 'GCS_ENDPOINT']);

/** What the deployed stack gives each function: its `Environment.Variables` as synthesized (values may be tokens). */
export interface DeployedEnvironments {
  /** The parsed configuration the stack deploys (its JSON is every function's BRIDGE_CONFIG). */
  bridgeConfig: string;
  variables: Record<BridgeFunctionName, Record<string, unknown>>;
  /** Milliseconds the synthesis took. */
  synthMs: number;
}

/**
 * Synthesizes the real stack for `config` (asset bundling skipped, as in test/infra) and reads
 * each function's environment variables from the template.
 */
export function synthesizeEnvironments(config: BridgeConfigInput): DeployedEnvironments {
  const started = performance.now();
  // Bundling skipped (as in test/infra) and no built-in template validation (a WebAssembly
  // CloudFormation linter, about 1.5 s on the first synthesis of a process; test/infra covers the template).
  const outdir = mkdtempSync(path.join(tmpdir(), 'bridge-harness-'));
  try {
    const app = new App({ outdir, builtinCloudFormationValidation: false, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new BridgeStack(app, 'BridgeHarness', { config });
    return readEnvironments(stack, started);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function readEnvironments(stack: BridgeStack, started: number): DeployedEnvironments {
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Properties?: { Environment?: { Variables?: Record<string, unknown> } } }>;
  const variables = {} as Record<BridgeFunctionName, Record<string, unknown>>;
  for (const name of FUNCTION_NAMES) {
    const id = stack.getLogicalId(stack.bridge.functions[name].node.defaultChild as CfnResource);
    const resource = resources[id];
    if (!resource) throw new Error(`harness: no resource ${id} for the ${name} function in the synthesized template`);
    variables[name] = { ...resource.Properties?.Environment?.Variables };
  }
  return { bridgeConfig: JSON.stringify(stack.bridge.config), variables, synthMs: performance.now() - started };
}

/** A setting of the test process rather than of the deployment: local endpoints, AWS_* (region, credentials, S3 endpoint), the local stack's own. */
export function isLocalSetting(name: string, localNames: Iterable<string> = []): boolean {
  return LOCAL_NAMES.has(name) || name.startsWith('AWS_') || new Set(localNames).has(name);
}

/**
 * One function's environment as deployed: exactly the names the template gives it, plus the local
 * settings found in `values`. A literal template value is used as is (it is what is deployed);
 * a CloudFormation reference (queue URL, secret ARN, table name, Function URL) takes the harness's
 * value for that name, and a name the harness has no value for is an error (a harness gap).
 */
export function deployedEnv(fn: string, variables: Record<string, unknown>, values: NodeJS.ProcessEnv, localNames: Iterable<string> = []): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(values)) if (value !== undefined && isLocalSetting(name, localNames)) env[name] = value;
  for (const [name, value] of Object.entries(variables)) {
    if (typeof value === 'string') env[name] = value;
    else if (values[name] !== undefined) env[name] = values[name];
    else throw new Error(`harness: the ${fn} function is deployed with ${name} (${JSON.stringify(value)}), but the harness has no value for it`);
  }
  return env;
}
