import { describe, expect, it } from 'vitest';
import { parseBridgeConfig, type BridgeConfigInput } from '../../shared/config/bridge-config';

const base: BridgeConfigInput = {
  sources: [{ id: 'cams', bucket: 'media-bucket', prefix: 'in/' }],
  destination: { bucket: 'results-bucket', prefix: 'out/' },
  target: { name: 'roboflow', workspace: 'ws', workflowId: 'wf' },
};

describe('discovery config (partitions of deployed runs)', () => {
  it('defaults to one listing per run, swept every 5 minutes, 2,048 MiB for reading inventories', () => {
    expect(parseBridgeConfig(base).discovery).toEqual({ partitions: 1, sweepSeconds: 300, inventoryStorageMiB: 2048 });
    expect(parseBridgeConfig({ ...base, discovery: { partitions: 16 } }).discovery).toEqual({ partitions: 16, sweepSeconds: 300, inventoryStorageMiB: 2048 });
  });

  it.each([
    [{ discovery: { partitions: 0 } }, /discovery\.partitions: .*(>=|at least) ?1/],
    [{ discovery: { partitions: 65 } }, /discovery\.partitions: .*(<=|at most) ?64/],
    [{ discovery: { partitions: 2.5 } }, /discovery\.partitions/],
    [{ discovery: { sweepSeconds: 901 } }, /discovery\.sweepSeconds: .*900/],
    [{ sources: [{ ...base.sources[0]!, partitions: 0 }] }, /sources\.0\.partitions/],
  ])('refuses %j, naming the field', (override, message) => {
    expect(() => parseBridgeConfig({ ...base, ...override })).toThrow(message);
  });
});
