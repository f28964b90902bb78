import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { exitWithParent, MiB } from './lib';

/**
 * A download server on loopback that generates bytes (no disk): GET /<anything>?bytes=N answers
 * 200 with Content-Length N, written in 1 MiB chunks with back-pressure; GET /<anything>?members=N
 * answers a .tar.gz of N small JSON results (built once per N, in memory). In its own process,
 * like the result file server it stands in for.
 */
const block = Buffer.alloc(MiB);
for (let i = 0; i < block.length; i++) block[i] = (i * 2654435761) >>> 24;

const archives = new Map<number, Promise<Buffer>>();

/** A .tar.gz of `count` per-item results of about 100 bytes each, like a results archive. */
async function resultsArchive(count: number): Promise<Buffer> {
  const p = pack();
  for (let i = 0; i < count; i++) p.entry({ name: `results/item-${String(i).padStart(6, '0')}.json` }, JSON.stringify({ item: i, predictions: [{ class: 'car', confidence: 0.9 }] }));
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(Buffer.from(c as Uint8Array));
  return gzipSync(Buffer.concat(chunks));
}

const server = createServer(async (req, res) => {
  const query = new URL(req.url ?? '/', 'http://x').searchParams;
  const members = Number(query.get('members') ?? '0');
  if (members > 0) {
    if (!archives.has(members)) archives.set(members, resultsArchive(members));
    const archive = await archives.get(members)!;
    return void res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': String(archive.length) }).end(archive);
  }
  const bytes = Number(query.get('bytes') ?? '0');
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
