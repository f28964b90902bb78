import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteError } from '../../shared/errors';
import { openDownload } from '../../shared/pipeline/download';

describe('openDownload', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/stalls') {
        // Ten bytes of a thousand, then nothing: a dead connection.
        res.writeHead(200, { 'content-length': 1000 });
        res.write(Buffer.alloc(10));
        return;
      }
      if (path === '/silent') return; // never answers
      if (path === '/busy') return void res.writeHead(503).end();
      res.writeHead(200, { 'content-length': 256 * 1024 }).end(Buffer.alloc(256 * 1024, 1));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('fails a download that gets no data for its timeout, as transient, naming the file and not the URL', async () => {
    const download = await openDownload(`${base}/stalls?X-Amz-Signature=secret`, 'p1/a.json', 300);
    const err = await buffer(download.body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).message).toBe('download of p1/a.json stalled: no data for 0.3 s');
    expect((err as RemoteError).retryable).toBe(true);
  });

  it('fails a server that does not answer within the timeout', async () => {
    await expect(openDownload(`${base}/silent?X-Amz-Signature=secret`, 'p1/b.json', 300)).rejects.toThrow('download of p1/b.json failed: no answer within 0.3 s');
  });

  it('does not count a slow reader as a stalled download', async () => {
    const download = await openDownload(`${base}/whole`, 'p1/c.json', 300);
    expect(download.length).toBe(256 * 1024);
    // Nothing read for more than twice the timeout: the data waits in the body, the download goes on.
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect((await buffer(download.body)).length).toBe(256 * 1024);
  });

  it('says which statuses are worth another try', async () => {
    const busy = (await openDownload(`${base}/busy`, 'p1/d.json').catch((e: unknown) => e)) as RemoteError;
    expect([busy.message, busy.retryable]).toEqual(['download of p1/d.json failed: HTTP 503', true]);
  });
});
