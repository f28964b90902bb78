import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exitWithParent } from './lib';

/**
 * A signed-PUT endpoint on loopback that reads each body to the end, drops it and answers 200 once
 * it has exactly Content-Length bytes (else 400). In its own process, like the upload host it stands in for.
 */
const server = createServer((req, res) => {
  const expected = Number(req.headers['content-length']);
  let seen = 0;
  req.on('data', (chunk: Buffer) => (seen += chunk.length));
  req.on('end', () => res.writeHead(seen === expected ? 200 : 400).end());
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
process.stdout.write(`@@ready ${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
exitWithParent(() => void server.close());
