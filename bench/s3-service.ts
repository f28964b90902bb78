import { createHash } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type S3rverType from 's3rver';
import { benchKey, exitWithParent } from './lib';

/**
 * The local S3 server (s3rver 3.7.1) in its own process, so the benchmarked process's RSS is its
 * own. Usage: s3-service.ts [--latency-ms=N] <bucket,...> [<bucket> <prefix> <count>] — with
 * --latency-ms every request waits N ms before s3rver sees it (a store across a network, such as
 * S3 from its region, where a small PUT takes tens of milliseconds); the optional seed writes
 * <count> small image objects straight into s3rver's on-disk layout (object, .md5, metadata), 1,000
 * per folder: PUTting 100,000 objects over HTTP would take minutes, and s3rver's listing walks a
 * folder entry by entry, so one flat folder of 100,000 objects would make every page O(n).
 */
const require = createRequire(import.meta.url);
const S3rver: typeof S3rverType = require('s3rver');

const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
const latencyMs = Number(flags.find((f) => f.startsWith('--latency-ms='))?.split('=')[1] ?? '0');
const [bucketList = 'media', seedBucket, seedPrefix = '', seedCount = '0'] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
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
const front = latencyMs > 0 ? await delayingProxy(port, latencyMs) : undefined;
const endpoint = `http://127.0.0.1:${front ? (front.address() as AddressInfo).port : port}`;
process.stdout.write(`@@ready ${JSON.stringify({ endpoint, directory, seeded, latencyMs })}\n`);

// The parent removes the data folder once this process has exited (see startService).
exitWithParent(async () => {
  front?.close();
  await server.close();
});

/** Forwards every request to s3rver `ms` later, headers as sent (SigV4 signs the Host header). */
async function delayingProxy(upstream: number, ms: number): Promise<Server> {
  const proxy = createServer((req, res) => {
    setTimeout(() => {
      const forward = request({ host: '127.0.0.1', port: upstream, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.on('error', () => res.destroy());
      req.pipe(forward);
    }, ms);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return proxy;
}

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
