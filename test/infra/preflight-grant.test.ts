import { describe, expect, it } from 'vitest';
import { PROBE_NAME_PREFIX } from '../../shared/run/preflight';
import { allStatements, asArray, exampleConfig, flatten, functionStatements, synthStack } from './fixtures';

/** The preflight's probe object is removed again, so the functions that run it may delete exactly that name. */
describe('preflight probe removal grant', () => {
  const { stack, template } = synthStack();
  const { bucket, prefix = '' } = exampleConfig().destination;
  const probeArn = `arn:aws:s3:::${bucket}/${prefix}${PROBE_NAME_PREFIX}*`;
  const deletes = (statements: Array<{ Action: string | string[]; Resource: unknown }>) =>
    statements.filter((s) => asArray(s.Action).includes('s3:DeleteObject')).flatMap((s) => asArray(s.Resource).map(flatten));

  it.each(['scheduled-run', 'continue-submission'] as const)('%s may delete the probe name under the destination prefix, nothing else', (fn) => {
    expect(deletes(functionStatements(template, stack, fn))).toEqual([probeArn]);
  });

  it('no other statement of the stack allows s3:DeleteObject, but the export (what a failed copy wrote) under the destination prefix', () => {
    expect(deletes(functionStatements(template, stack, 'export'))).toEqual([`arn:aws:s3:::${bucket}/${prefix}*`]);
    expect([...new Set(deletes(allStatements(template).map((s) => s.statement)))].sort()).toEqual([`arn:aws:s3:::${bucket}/${prefix}*`, probeArn].sort());
  });
});
