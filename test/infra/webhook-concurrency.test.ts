import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { BridgeStack, type BridgeStackProps } from '../../infra/bridge-stack';
import { exampleConfig, testApp } from './fixtures';

/** The webhook function's reservation as the construct sets it (no template synthesis: quick). */
function webhookReservation(overrides: Partial<BridgeStackProps>) {
  const stack = new BridgeStack(testApp(), 'BridgeTest', { config: exampleConfig(), ...overrides });
  return (stack.bridge.functions.webhook.node.defaultChild as CfnFunction).reservedConcurrentExecutions;
}

describe('webhook function concurrency', () => {
  it('reserves 10 by default (the synthesized template: see stack.test.ts)', () => {
    expect(webhookReservation({})).toBe(10);
  });

  it('takes another reservation, or none', () => {
    expect(webhookReservation({ webhookReservedConcurrency: 25 })).toBe(25);
    expect(webhookReservation({ webhookReservedConcurrency: false })).toBeUndefined();
  });

  it.each([0, 1.5, 1001, Number.NaN])('refuses %s as a reservation, naming the setting', (value) => {
    expect(() => webhookReservation({ webhookReservedConcurrency: value })).toThrow(/webhookReservedConcurrency: expected an integer from 1 to 1000 or false/);
  });
});
