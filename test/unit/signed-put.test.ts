import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteError } from '../../shared/errors';
import { putSigned } from '../../shared/http/signed-put';
import { registerSecrets } from '../../shared/scrub-secrets';

const SECRET = 'rf_upload_secret_0123456789abcdefghijKLMN';

let server: Server;
let url: string;
beforeAll(async () => {
  registerSecrets(SECRET);
  server = createServer((req, res) => {
    req.resume();
    // The secret starts at char 280 and straddles char 300; ANSI escapes come before and after it.
    const body = `\u001b[31mdenied\u001b[0m ${'.'.repeat(280 - 16)}${SECRET} \u001b[2J\r tail`;
    req.on('end', () => res.writeHead(403, { 'content-type': 'text/plain' }).end(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/upload?X-Goog-Signature=abc`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('putSigned: remote error text', () => {
  it('is scrubbed before it is cut: no piece of a registered secret straddling the cut, no control characters', async () => {
    const err = await putSigned(url, Readable.from([Buffer.from('data')]), 4, {}, 'shard-1').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RemoteError);
    const message = (err as RemoteError).message;
    expect(message).toMatch(/^upload of shard-1 failed: HTTP 403: \[31mdenied \[0m \.+\[redacted\]  \[2J  tail$/);
    expect((err as RemoteError).status).toBe(403);
    for (let i = 0; i + 12 <= SECRET.length; i++) expect(message).not.toContain(SECRET.slice(i, i + 12));
    // eslint-disable-next-line no-control-regex
    expect(message).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(message).not.toContain('X-Goog-Signature');
  });
});
