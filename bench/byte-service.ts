import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exitWithParent, MiB } from './lib';

/**
 * A download server on loopback that generates bytes (no disk): GET /<anything>?bytes=N answers
 * 200 with Content-Length N, written in 1 MiB chunks with back-pressure. In its own process, like
 * the result file server it stands in for.
 */
const block = Buffer.alloc(MiB);
for (let i = 0; i < block.length; i++) block[i] = (i * 2654435761) >>> 24;

const server = createServer((req, res) => {
  const bytes = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('bytes') ?? '0');
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes) });
  let left = bytes;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, block.length);
      left -= n;
      if (!res.write(n === block.length ? block : block.subarray(0, n))) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`@@ready ${JSON.stringify({ url: `http://127.0.0.1:${port}/results/part-0/predictions.jsonl` })}\n`);
});
exitWithParent(() => new Promise<void>((done) => server.close(() => done())));
