import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import type { BridgeFunctionName } from '../../infra/bucket-bridge';
import { FUNCTION_NAMES } from '../support/deployed-env';
import { asArray, functionStatements, logicalId, synthStack } from './fixtures';

function inspect(context: Record<string, string> = {}) {
  const { stack, template } = synthStack({}, new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } }));
  const props = (name: BridgeFunctionName) => template.toJSON().Resources[logicalId(stack, stack.bridge.functions[name])].Properties;
  const xray = (name: BridgeFunctionName) => functionStatements(template, stack, name).filter((st) => asArray(st.Action).includes('xray:PutTraceSegments'));
  return { stack, props, xray };
}

describe('logs, metrics and traces of the deployed functions', () => {
  it('traces every function with X-Ray and configures Powertools alike for all functions of the stack', () => {
    const { stack, props, xray } = inspect();
    for (const name of FUNCTION_NAMES) {
      expect(props(name).TracingConfig, name).toEqual({ Mode: 'Active' });
      expect(props(name).Environment.Variables, name).toMatchObject({
        // The metrics' service dimension: the same for every function of one deployment.
        POWERTOOLS_SERVICE_NAME: stack.stackName,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        POWERTOOLS_LOGGER_SAMPLE_RATE: '0.01',
        POWERTOOLS_TRACE_ENABLED: 'true',
      });
      expect(xray(name), name).toHaveLength(1);
    }
  });

  it('turns tracing and sampled debug lines off, and sets the log level, from CDK context', () => {
    const { props, xray } = inspect({ tracing: 'false', debugLogSampleRate: '0', logLevel: 'WARN' });
    for (const name of FUNCTION_NAMES) {
      expect(props(name).TracingConfig, name).toBeUndefined();
      expect(props(name).Environment.Variables, name).toMatchObject({ POWERTOOLS_LOG_LEVEL: 'WARN', POWERTOOLS_LOGGER_SAMPLE_RATE: '0', POWERTOOLS_TRACE_ENABLED: 'false' });
      expect(xray(name), name).toEqual([]);
    }
  });
});
