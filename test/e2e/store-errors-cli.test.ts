import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_WORKFLOW, SANDBOX_WORKSPACE, startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import { runCli } from '../support/cli';
import { tempDir } from '../support/domain';
import { startS3Proxy } from '../support/s3-proxy';

describe('the CLI names the S3 operation, the bucket, the code and the status of a store error', () => {
  let stack: LocalStack;
  let proxy: Awaited<ReturnType<typeof startS3Proxy>>;

  beforeAll(async () => {
    stack = await startLocalStack({ buckets: ['present'] });
    await stack.store('present').write('in/a.jpg', 'x');
    proxy = await startS3Proxy(stack.s3.endpoint);
  });
  afterAll(async () => {
    await proxy.close();
    await stack.close();
  });

  const run = async (source: string, dest: string) =>
    runCli(
      [
        'run',
        '--source', source,
        '--dest', dest,
        '--workspace', SANDBOX_WORKSPACE,
        '--workflow', SANDBOX_WORKFLOW,
        '--allow-http-references',
        '--state-dir', await tempDir('bb-store-errors-'),
        '--quiet',
      ],
      { ...stack.env, AWS_ENDPOINT_URL_S3: proxy.url },
    );

  it('a source bucket that does not exist', async () => {
    const result = await run('s3://no-such-source/in/', 's3://present/out/');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('ListObjectsV2 s3://no-such-source/in/: NoSuchBucket (404)');
  });

  it('a destination that refuses with an empty <Message> (Ceph RGW) never reads UnknownError', async () => {
    proxy.failWith({ match: (r) => r.method === 'PUT' && r.path.startsWith('/present/out/'), status: 403, code: 'AccessDenied', message: '', count: 10 });
    const result = await run('s3://present/in/', 's3://present/out/');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/PutObject s3:\/\/present\/out\/\S*: AccessDenied \(403\)/);
    expect(result.stderr).not.toContain('UnknownError');
  });
});
