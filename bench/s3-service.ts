import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type S3rverType from 's3rver';
import { benchKey, exitWithParent } from './lib';

/**
 * The local S3 server (s3rver 3.7.1) in its own process, so the benchmarked process's RSS is its
 * own. Usage: s3-service.ts <bucket,...> [<bucket> <prefix> <count>] — the optional seed writes
 * <count> small image objects straight into s3rver's on-disk layout (object, .md5, metadata), 1,000
 * per folder: PUTting 100,000 objects over HTTP would take minutes, and s3rver's listing walks a
 * folder entry by entry, so one flat folder of 100,000 objects would make every page O(n).
 */
const require = createRequire(import.meta.url);
const S3rver: typeof S3rverType = require('s3rver');

const [bucketList = 'media', seedBucket, seedPrefix = '', seedCount = '0'] = process.argv.slice(2);
const directory = mkdtempSync(join(tmpdir(), 'bucket-bridge-bench-s3-'));
const buckets = bucketList.split(',');

const seeded = seedBucket ? seed(seedBucket, seedPrefix, Number(seedCount)) : 0;

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  resetOnClose: false,
  configureBuckets: buckets.map((name) => ({ name, configs: [] })),
});
const { port } = await server.run();
process.stdout.write(`@@ready ${JSON.stringify({ endpoint: `http://127.0.0.1:${port}`, directory, seeded })}\n`);

// The parent removes the data folder once this process has exited (see startService).
exitWithParent(() => server.close());

function seed(bucket: string, prefix: string, count: number): number {
  const body = Buffer.from('\xff\xd8\xff\xe0 bench image bytes, not a real jpeg', 'latin1');
  const md5 = createHash('md5').update(body).digest('hex');
  const metadata = JSON.stringify({ 'content-type': 'image/jpeg' });
  let folder = '';
  for (let i = 0; i < count; i++) {
    const path = join(directory, bucket, benchKey(prefix, i));
    const dir = path.slice(0, path.lastIndexOf('/'));
    if (dir !== folder) mkdirSync((folder = dir), { recursive: true });
    writeFileSync(`${path}._S3rver_object`, body);
    writeFileSync(`${path}._S3rver_object.md5`, md5);
    writeFileSync(`${path}._S3rver_metadata.json`, metadata);
  }
  return count;
}
