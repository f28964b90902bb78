import { describe, expect, it } from 'vitest';
import { parseBridgeConfig, type BridgeConfigInput } from '../../shared/config/bridge-config';
import { specForSource } from '../../shared/run/source-spec';

const base = {
  sources: [{ id: 'cams', bucket: 'media-bucket', prefix: 'in/' }],
  destination: { bucket: 'results-bucket', prefix: 'out/' },
} satisfies Partial<BridgeConfigInput>;

describe('bridge configuration targets', () => {
  it('reads the top-level Roboflow fields of older configurations as a roboflow target', () => {
    const config = parseBridgeConfig({ ...base, workspace: 'ws', workflowId: 'wf', roboflowApiUrl: 'http://127.0.0.1:9/', job: { machineType: 'gpu' } });
    expect(config.target).toEqual({ name: 'roboflow', workspace: 'ws', workflowId: 'wf', job: { machineType: 'gpu' }, apiUrl: 'http://127.0.0.1:9/' });
    expect(config).not.toHaveProperty('workspace');
    expect(config.sources[0]!.media).toBe('images');
  });

  it.each([
    [{ name: 'roboflow', workspace: 'ws', workflowId: 'wf' }, 'images'],
    [{ name: 'extend', processor: { id: 'ex_1' } }, 'documents'],
    [{ name: 'llamacloud', configurationId: 'cfg-1' }, 'documents'],
  ] as const)('parses its own output again unchanged (what the functions read): %o', (target, media) => {
    const once = parseBridgeConfig({ ...base, target });
    expect(once.sources[0]!.media).toBe(media);
    expect(parseBridgeConfig(JSON.parse(JSON.stringify(once)))).toEqual(once);
  });

  it('signs URLs for a day for Roboflow and an hour for the document targets, unless configured', () => {
    expect(parseBridgeConfig({ ...base, workspace: 'ws', workflowId: 'wf' }).urlLifetimeSeconds).toBe(86_400);
    expect(parseBridgeConfig({ ...base, target: { name: 'extend', processor: { id: 'ex_1' } } }).urlLifetimeSeconds).toBe(3600);
    expect(parseBridgeConfig({ ...base, target: { name: 'llamacloud', configurationId: 'c' } }).urlLifetimeSeconds).toBe(3600);
    expect(parseBridgeConfig({ ...base, target: { name: 'extend', processor: { id: 'ex_1' } }, urlLifetimeSeconds: 900 }).urlLifetimeSeconds).toBe(900);
  });

  it('gives runs the target settings without the API location', () => {
    const config = parseBridgeConfig({ ...base, target: { name: 'extend', processor: { id: 'ex_1', kind: 'classify' }, apiUrl: 'http://127.0.0.1:9/', workspaceId: 'w1' } });
    expect(specForSource(config, config.sources[0]!)).toMatchObject({
      media: 'documents',
      target: { name: 'extend', processor: { id: 'ex_1', kind: 'classify' } },
    });
    expect(specForSource(config, config.sources[0]!).target).not.toHaveProperty('apiUrl');
  });

  it('names the field of a bad target', () => {
    expect(() => parseBridgeConfig({ ...base, target: { name: 'extend', processor: {} } })).toThrow(/^bucket-bridge config: target\.processor\.id: /);
    expect(() => parseBridgeConfig({ ...base, target: { name: 'other' } })).toThrow(/^bucket-bridge config: target\.name: /);
    expect(() => parseBridgeConfig({ ...base, workspace: 'ws' })).toThrow(/^bucket-bridge config: workflowId: a Roboflow workflow id/);
  });
});
