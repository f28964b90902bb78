import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestS3, type TestS3 } from '../support/s3';

const require = createRequire(import.meta.url);
type StreamFactory = (path: string) => Writable;
/** The two ways s3rver's store may open an object file: node's fs, and fs-extra (s3rver 3.7). */
const openers: Array<{ module: { createWriteStream: StreamFactory }; real: StreamFactory }> = [fs, require('fs-extra')].map((module) => ({
  module,
  real: module.createWriteStream,
}));

/** A disk that takes 20 ms per write, as a loaded machine's may. */
function slowDisk(real: StreamFactory): StreamFactory {
  return (path) => {
    const file = real(path);
    return new Writable({
      write(chunk, _encoding, callback) {
        setTimeout(() => file.write(chunk, callback), 20);
      },
      final(callback) {
        file.end(callback);
      },
    });
  };
}

describe('the local S3 server answers a PUT once the object is on disk', () => {
  let s3: TestS3;
  beforeAll(async () => {
    s3 = await startTestS3({ buckets: ['media'] });
  });
  afterAll(() => s3.server.close());
  afterEach(() => {
    for (const { module, real } of openers) module.createWriteStream = real;
  });

  it('a HEAD right after the PUT finds every byte, however slow the disk', async () => {
    for (const opener of openers) opener.module.createWriteStream = slowDisk(opener.real);
    const store = s3.store('media');
    const body = Buffer.alloc(512 * 1024, 3);
    await expect(store.write('slow/disk.bin', body)).resolves.toEqual({ bytes: body.length });
    expect(await store.sizeOf('slow/disk.bin')).toBe(body.length);
  });
});
