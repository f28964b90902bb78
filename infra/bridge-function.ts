import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Duration, type Size, Stack, Validations } from 'aws-cdk-lib';
import { type IRole, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Code, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ESBUILD_TARGET, LAMBDA_RUNTIME_NAME } from './node-runtime';
import { bridgeServiceName } from './observability/service-name';

/** The repository root (this file lives in `<root>/infra/`). */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Lets ESM bundles load CommonJS dependencies that call `require` (e.g. node built-ins). */
const ESM_REQUIRE_BANNER = "import { createRequire } from 'module';const require = createRequire(import.meta.url);";

/** CDK's constant for the pinned runtime (not `NODEJS_LATEST`, which shares a name but may move). */
const RUNTIME = Runtime.ALL.find((r) => r.name === LAMBDA_RUNTIME_NAME && !r.isVariable);
if (!RUNTIME) throw new Error(`aws-cdk-lib does not know the Lambda runtime ${LAMBDA_RUNTIME_NAME} (infra/node-runtime.json)`);

/**
 * Logs, metrics and traces of every function (Powertools), the same for all functions of a stack.
 * CDK context overrides the defaults at deploy time: `-c logLevel=DEBUG`, `-c debugLogSampleRate=0`
 * (no sampled debug lines), `-c tracing=false` (no X-Ray).
 */
export function observabilityEnvironment(scope: Construct): { tracing: boolean; environment: Record<string, string> } {
  const context = (key: string) => scope.node.tryGetContext(key) as string | number | boolean | undefined;
  const tracing = String(context('tracing') ?? 'true') !== 'false';
  return {
    tracing,
    environment: {
      // The metrics' `service` dimension: one value per deployment, so two stacks chart apart.
      POWERTOOLS_SERVICE_NAME: bridgeServiceName(scope),
      POWERTOOLS_LOG_LEVEL: String(context('logLevel') ?? 'INFO'),
      // The share of invocations that log at DEBUG level.
      POWERTOOLS_LOGGER_SAMPLE_RATE: String(context('debugLogSampleRate') ?? '0.01'),
      POWERTOOLS_TRACE_ENABLED: String(tracing),
    },
  };
}

export interface BridgeFunctionProps {
  /** Folder name under `functions/`: the entry is `functions/<name>/handler.ts`, export `handler`. */
  readonly name: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly environment?: Record<string, string>;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  readonly description?: string;
  /** Concurrent executions reserved for (and capping) this function. @default none: the account's unreserved pool */
  readonly reservedConcurrentExecutions?: number;
  /** Its /tmp. @default 512 MiB (Lambda's) */
  readonly ephemeralStorageSize?: Size;
}

/**
 * A `NodejsFunction` with the bridge's defaults: the Node.js that infra/node-runtime.json names (22)
 * on ARM64, a minified ESM bundle with source maps (AWS SDK v3 left to the runtime), its own
 * execution role without managed policies, and an explicit log group with a retention.
 *
 * The role only gets write access to this function's log group; everything else is granted by the
 * caller. When the stack is synthesised with bundling skipped (`aws:cdk:bundling-stacks: []`, as
 * the infra tests do) and the handler file does not exist yet, a placeholder inline code is used
 * so the template can still be inspected.
 */
export class BridgeFunction extends NodejsFunction {
  /** The execution role (also `role`, typed as the concrete `Role` the bridge grants to). */
  readonly executionRole: Role;

  constructor(scope: Construct, id: string, props: BridgeFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}LogGroup`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
    });
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the bucket-bridge ${props.name} function`,
    });
    logGroup.grantWrite(role);

    const observability = observabilityEnvironment(scope);
    const entry = path.join(REPO_ROOT, 'functions', props.name, 'handler.ts');
    const placeholder = !existsSync(entry) && !Stack.of(scope).bundlingRequired;

    super(scope, id, {
      description: props.description,
      runtime: RUNTIME,
      architecture: Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      ephemeralStorageSize: props.ephemeralStorageSize,
      role: role as IRole,
      logGroup,
      tracing: observability.tracing ? Tracing.ACTIVE : Tracing.DISABLED,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...observability.environment,
        ...props.environment,
      },
      ...(placeholder
        ? {
            code: Code.fromInline('exports.handler = async () => { throw new Error("placeholder"); };'),
            handler: 'index.handler',
          }
        : {
            entry,
            handler: 'handler',
            depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
            projectRoot: REPO_ROOT,
            bundling: {
              format: OutputFormat.ESM,
              target: ESBUILD_TARGET,
              minify: true,
              sourceMap: true,
              sourceMapMode: SourceMapMode.DEFAULT,
              mainFields: ['module', 'main'],
              banner: ESM_REQUIRE_BANNER,
              externalModules: ['@aws-sdk/*'],
            },
          }),
    });
    this.executionRole = role;
    if (observability.tracing) {
      // Active tracing grants xray:PutTraceSegments and xray:PutTelemetryRecords, which take no resource.
      const policy = role.node.findChild('DefaultPolicy').node.defaultChild!;
      Validations.of(policy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions (active tracing of this function)',
      });
    }
  }
}
