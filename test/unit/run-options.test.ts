import { describe, expect, it } from 'vitest';
import { runOptions } from '../../cli/options';

const common = ['--source', 's3://docs/in/', '--dest', 's3://results/out/'];

describe('run options: signed URL lifetime', () => {
  it.each([
    ['roboflow', ['--workspace', 'ws', '--workflow', 'wf'], 86_400],
    ['extend', ['--target', 'extend', '--extend-processor', 'ex_1'], 3600],
    ['llamacloud', ['--target', 'llamacloud', '--llamacloud-configuration', 'cfg-1'], 3600],
  ])('defaults per target: %s', (_name, flags, seconds) => {
    expect(runOptions([...common, ...flags]).spec.urlLifetimeSeconds).toBe(seconds);
  });

  it('takes --url-lifetime for any target', () => {
    expect(runOptions([...common, '--target', 'extend', '--extend-processor', 'ex_1', '--url-lifetime', '7200']).spec.urlLifetimeSeconds).toBe(7200);
  });
});
