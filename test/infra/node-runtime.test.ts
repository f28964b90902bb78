import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/bridge-function';
import { NODE_MAJOR, TEST_NODE_VERSION } from '../../infra/node-runtime';

const numbers = (version: string) => version.replace(/^v/, '').split('.').map(Number);

/** Whether `version` satisfies one of the `^x.y.z` alternatives of an engines range. */
function admits(range: string, version: string): boolean {
  const [major, minor, patch] = numbers(version);
  return range.split('||').some((alternative) => {
    const caret = /^\s*\^(\d+)\.(\d+)\.(\d+)\s*$/.exec(alternative);
    if (!caret) throw new Error(`engines alternative ${alternative} is not of the form ^x.y.z`);
    const [min, mid, low] = caret.slice(1).map(Number);
    return major === min && (minor > mid || (minor === mid && patch >= low));
  });
}

describe('the Node.js the functions are deployed on (infra/node-runtime.json)', () => {
  it('is the Node the second test pass installs, and package.json engines admit it', () => {
    expect(numbers(TEST_NODE_VERSION)[0]).toBe(NODE_MAJOR);
    const engines = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).engines.node as string;
    expect(admits(engines, TEST_NODE_VERSION)).toBe(true);
    expect(admits(engines, `${NODE_MAJOR + 2}.0.0`)).toBe(false);
  });

  it.runIf(process.env.BUCKET_BRIDGE_EXPECTED_NODE)('runs this pass on it (the test workers, not only the runner)', () => {
    expect(process.version).toBe(process.env.BUCKET_BRIDGE_EXPECTED_NODE);
    expect(process.version).toBe(`v${TEST_NODE_VERSION}`);
  });
});
