import { afterEach, describe, expect, it } from 'vitest';
import { startLocalS3 } from '../../sandbox/s3-server';

/** Warnings the process emits while a test runs (deprecations are emitted once per process). */
const warnings: string[] = [];
const record = (w: Error & { code?: string }) => warnings.push(`${w.code ?? w.name}: ${w.message}`);
process.on('warning', record);
afterEach(() => {
  warnings.length = 0;
});

describe('the local S3 server', () => {
  // The SigV4-verifying fork's reset-on-close calls fs.rmdir(dir, { recursive: true }), deprecated
  // (DEP0147) for removal in a future Node; the harness removes its own temporary folder instead.
  it.each([{ verifySignatures: false }, { verifySignatures: true }])('closes without a deprecated Node call (%o)', async (options) => {
    const s3 = await startLocalS3({ buckets: ['bucket'], ...options });
    await s3.close();
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    expect(warnings).toEqual([]);
  });
});
