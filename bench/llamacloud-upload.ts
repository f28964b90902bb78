import { request } from 'undici';
import { mapLimit } from '../shared/concurrency';
import type { RunRecord } from '../shared/state/run-record';
import { LlamaCloudClient } from '../shared/targets/llamacloud/client';
import { directoryName, LlamaCloudTarget } from '../shared/targets/llamacloud/target';
import { MiB, reportResult } from './lib';

/**
 * Objects into LlamaCloud, four at a time. Usage: llamacloud-upload.ts <mode> <emulator url> <byte url> <files> <MiB each>
 *   bridge:   the target's submission (submitChunk): each signed URL is downloaded and streamed
 *             into a multipart directory upload, then the batch is created
 *   baseline: the same downloads, four at a time, read to the end and dropped (the floor any
 *             streaming copy pays: no upload at all)
 */
const [mode = 'bridge', apiUrl = '', byteUrl = '', filesArg = '4', mibArg = '256'] = process.argv.slice(2);
const files = Number(filesArg);
const bytesEach = Number(mibArg) * MiB;
const references = Array.from({ length: files }, (_, i) => ({
  name: `doc-${i}.pdf`,
  key: `docs/doc-${i}.pdf`,
  url: `${byteUrl}?bytes=${bytesEach}&n=${i}`,
}));

const started = performance.now();
let moved = 0;
if (mode === 'bridge') {
  const client = new LlamaCloudClient({ apiKey: 'llx-bench', apiUrl });
  const target = new LlamaCloudTarget(client, { job: { type: 'parse_v2', configurationId: 'cfg-PARSE_AGENTIC' }, uploadConcurrency: 4 });
  const ingestId = `bench-${mode}-${Date.now()}`;
  const run = { runId: 'bench', nonce: `bench-${Date.now()}`, createdAt: new Date().toISOString() } as RunRecord;
  const receipt = await target.submitChunk(run, { ingestId, referencesUrl: '', references });
  const directory = await client.findDirectory(directoryName(run, ingestId));
  let uploaded = 0;
  for await (const page of client.directoryFiles(directory!.id)) uploaded += page.length;
  if (!receipt.ref || uploaded !== files) throw new Error(`uploaded ${uploaded} of ${files} files`);
  moved = files * bytesEach;
} else {
  await mapLimit(references, 4, async (r) => {
    const res = await request(r.url, { method: 'GET', headersTimeout: 60_000, bodyTimeout: 60_000 });
    if (res.statusCode !== 200) throw new Error(`download: HTTP ${res.statusCode}`);
    for await (const chunk of res.body) moved += (chunk as Buffer).length;
  });
}
const seconds = (performance.now() - started) / 1000;
if (moved !== files * bytesEach) throw new Error(`moved ${moved} of ${files * bytesEach} bytes`);
reportResult({ mode, seconds, bytes: moved, mbPerSecond: moved / MiB / seconds });
