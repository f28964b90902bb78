import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeImage } from '../../sandbox/seed';
import { referenceName } from '../../shared/pipeline/name';
import { PartitionMessage } from '../../shared/runtime/messages';
import { scheduledRunId } from '../../shared/run/scheduled-run';
import type { RunRecord } from '../../shared/state/run-record';
import type { QueuedMessage } from '../support/fake-aws';
import { listObjects } from '../support/s3';
import { startServerlessHarness, type ServerlessHarness } from '../support/serverless';
import { whileListingsRefusedAfter } from '../support/refused-listings';

/**
 * Folders (one holding only folders and files), a flat folder, objects beside folders, and
 * objects that are not images, under each source's prefix. Laid out the way the local S3 server
 * lists as S3 does (UTF-8 byte order; see test/integration/partitioned-listing.test.ts): no key
 * sorts between a folder's name and its contents.
 */
const IMAGES = [
  ...Array.from({ length: 40 }, (_, i) => `flat/frame_${String(i * 13).padStart(5, '0')}.jpg`),
  ...['north', 'south', 'west'].flatMap((cam) => Array.from({ length: 5 }, (_, i) => `cams/${cam}/shot ${i}.png`)),
  'cams/index.jpg', 'top.jpg', 'zeta/1.jpg', 'zeta/inner/2.jpg',
];
const OTHER = ['flat/notes.txt', 'cams/north/meta.json'];
/** `seq` lists as one listing; the others in partitions, each under its own fault. */
const SOURCES = ['seq', 'dup', 'drop', 'kill', 'poison'] as const;
const MANIFESTS = 'bucket-bridge/manifests/';

describe('deployed parallel discovery: partitions fanned out through the partitions queue, joined once', () => {
  let h: ServerlessHarness;
  let lostAnswers: DynamoAnswerDropper;
  const tick = new Date('2026-12-01T10:00:00Z');
  const runIdOf = (source: string) => scheduledRunId(source, tick);

  beforeAll(async () => {
    h = await startServerlessHarness({
      s3Proxy: true,
      config: {
        sources: SOURCES.map((id) => ({ id, bucket: 'media', prefix: `${id}/`, media: 'images' as const, schedule: 'rate(1 hour)', ...(id === 'seq' ? { partitions: 1 } : {}) })),
        listPageSize: 7,
        referencesPerFile: 21,
        discovery: { partitions: 4, sweepSeconds: 1 },
      },
    });
    const store = h.stack.store('media');
    await Promise.all(SOURCES.flatMap((id) => [...IMAGES, ...OTHER].map((key) => store.write(`${id}/${key}`, fakeImage(key, 256)))));
    lostAnswers = await startDynamoAnswerDropper(h.dynamo.endpoint);
  }, 60_000);
  afterAll(async () => {
    await lostAnswers?.close();
    await h?.close();
  });

  const run = async (runId: string): Promise<RunRecord | undefined> => h.main.runtime.state.getRun(runId);
  const finished = (runId: string) => async () => ['completed', 'failed'].includes((await run(runId))?.phase ?? '');
  const isPartitionOf = (m: QueuedMessage, source: string) => {
    if (m.queue !== 'partitions') return false;
    const body = PartitionMessage.parse(JSON.parse(m.body));
    return body.kind === 'partition' && body.runId === runIdOf(source);
  };

  /** Runs a scheduled tick of the source to its end; returns the run, its references files' names, their keys and the names the emulator staged. */
  async function tickToTheEnd(source: string) {
    const runId = runIdOf(source);
    await h.main.scheduledRun({ sourceId: source, time: tick.toISOString() }, h.context());
    await h.pump(finished(runId), 90_000);
    const done = (await run(runId))!;
    const files = await listObjects(h.stack.store('media'), `${MANIFESTS}${runId}/`);
    const referenced: string[] = [];
    for (const file of files) {
      const lines = (await text(await h.stack.store('media').read(file.key))).trim().split('\n');
      referenced.push(...lines.map((l) => (JSON.parse(l) as { name: string }).name));
    }
    const keys = new Map<string, string>();
    for await (const { name, key } of h.main.runtime.state.names(runId)) keys.set(name, key);
    const staged: string[] = [];
    const target = (await h.main.runtime.depsFor(done.spec)).target;
    for await (const page of target.stagedNames(done)) staged.push(...page);
    return { run: done, files: files.map((f) => f.key), referenced, keys, staged };
  }

  /** Keys relative to the source prefix, one per referenced name, sorted: equal lists mean the same objects, each once. */
  function relativeKeys(source: string, result: Awaited<ReturnType<typeof tickToTheEnd>>) {
    return result.referenced.map((name) => {
      const key = result.keys.get(name);
      expect(key, name).toBeDefined();
      expect(name).toBe(referenceName(key!));
      return key!.slice(`${source}/`.length);
    }).sort();
  }

  let sequential: Awaited<ReturnType<typeof tickToTheEnd>>;

  it('lists the sequential source as one listing (the baseline)', async () => {
    sequential = await tickToTheEnd('seq');
    expect(sequential.run.phase, sequential.run.error).toBe('completed');
    expect(sequential.run.partitions).toBeUndefined();
    expect(relativeKeys('seq', sequential)).toEqual([...IMAGES].sort());
    expect(h.deliveries.some((d) => d.queue === 'partitions')).toBe(false);
  });

  /** The partitioned run submitted exactly the sequential run's objects (no gap, no duplicate), the emulator staged each once, and one job started. */
  async function expectSameAsSequential(source: string, result: Awaited<ReturnType<typeof tickToTheEnd>>) {
    expect(result.run.phase, result.run.error).toBe('completed');
    expect(result.run.partitions?.total).toBeGreaterThan(4);
    expect(new Set(result.referenced).size).toBe(result.referenced.length);
    expect(relativeKeys(source, result)).toEqual(relativeKeys('seq', sequential));
    expect([...result.staged].sort()).toEqual([...result.referenced].sort());
    expect(result.run).toMatchObject({ submitted: IMAGES.length, listed: IMAGES.length + OTHER.length, skipped: { 'not-media': OTHER.length } });
    expect(h.stack.roboflow.jobsStarted().filter((id) => id === result.run.jobId)).toEqual([result.run.jobId]);
    // Chunks of different partitions never share a references file or an ingest id.
    expect(result.files.some((f) => /references-\d{7,}\.jsonl$/.test(f))).toBe(true);
    expect(h.deadLetters).toEqual([]);
  }

  it('submits the same names when every partition message is delivered twice at once, and once more later', async () => {
    h.queueFaults.concurrent.add('partitions');
    h.queueFaults.onSent = (m) => (isPartitionOf(m, 'dup') ? [m, m, { ...m, delaySeconds: m.delaySeconds + 1 }] : [m]);
    try {
      const result = await tickToTheEnd('dup');
      await expectSameAsSequential('dup', result);
      const copies = () => h.deliveries.filter((d) => d.queue === 'partitions' && (d.body as { runId: string }).runId === result.run.runId && (d.body as { kind: string }).kind === 'partition');
      // The later copies may arrive after the run has joined: they change nothing either.
      await h.pump(async () => copies().length >= 3 * result.run.partitions!.total, 30_000);
      expect(copies().length).toBeGreaterThanOrEqual(3 * result.run.partitions!.total);
      expect(copies().every((d) => !d.failed)).toBe(true);
      expect(h.stack.roboflow.jobsStarted().filter((id) => id === result.run.jobId)).toEqual([result.run.jobId]);
      expect((await run(result.run.runId))!.submitted).toBe(IMAGES.length);
    } finally {
      h.queueFaults.concurrent.clear();
      h.queueFaults.onSent = (m) => [m];
    }
  });

  it('recovers dropped partition messages (first sends and hand-ons) through the sweep', async () => {
    const seen = new Set<string>();
    let dropped = 0;
    // Every other partition's first message is lost, and so is the first hand-on of each partition.
    h.queueFaults.onSent = (m) => {
      if (!isPartitionOf(m, 'drop')) return [m];
      const body = PartitionMessage.parse(JSON.parse(m.body)) as { partition: number };
      const id = `${body.partition}`;
      const first = !seen.has(id);
      const handOn = seen.has(id) && !seen.has(`${id}+`);
      seen.add(first ? id : `${id}+`);
      if ((first && body.partition % 2 === 0) || handOn) {
        dropped++;
        return [];
      }
      return [m];
    };
    // Invocations short of time hand each partition on after every references file.
    const consumer = h.consumers.partitions;
    h.consumers.partitions = (e) => h.main.submitPartition(e, { getRemainingTimeInMillis: () => 100_000 });
    try {
      const result = await tickToTheEnd('drop');
      await expectSameAsSequential('drop', result);
      expect(dropped).toBeGreaterThan(result.run.partitions!.total / 2);
      const sweeps = h.deliveries.filter((d) => d.queue === 'partitions' && (d.body as { runId: string; kind: string }).runId === result.run.runId && (d.body as { kind: string }).kind === 'sweep');
      expect(sweeps.length).toBeGreaterThanOrEqual(2);
    } finally {
      h.queueFaults.onSent = (m) => [m];
      h.consumers.partitions = consumer;
    }
  });

  it('resumes a worker that failed after a checkpoint, and joins although the answers of the completions were lost', async () => {
    const failedPuts: string[] = [];
    // The second references file of the first partition that has one fails once (403: not retried by the SDK).
    h.proxy!.failWith({
      match: (r) => {
        const m = /\/media\/bucket-bridge\/manifests\/s-kill-[^/]+\/references-(\d+)\.jsonl$/.exec(r.path);
        const hit = r.method === 'PUT' && m !== null && Number(m[1]) % 1_000_000 === 1;
        if (hit) failedPuts.push(r.path);
        return hit;
      },
      status: 403,
      code: 'AccessDenied',
      message: 'scripted',
      count: 1,
    });
    // The answer of every partition's completion is lost once (the write lands; the SDK sends it again).
    lostAnswers.loseOnce((target, body) => target.endsWith('.UpdateItem') && body.includes('SET #status = :done') && body.includes('s-kill-'));
    h.env.DYNAMODB_ENDPOINT = lostAnswers.url;
    const viaLossyDynamo = h.container();
    const consumer = h.consumers.partitions;
    h.consumers.partitions = (e) => viaLossyDynamo.submitPartition(e, { getRemainingTimeInMillis: () => 900_000 });
    try {
      const result = await tickToTheEnd('kill');
      await expectSameAsSequential('kill', result);
      expect(failedPuts).toHaveLength(1);
      const failed = h.deliveries.filter((d) => d.queue === 'partitions' && d.failed && (d.body as { runId: string }).runId === result.run.runId);
      expect(failed).toHaveLength(1);
      expect(lostAnswers.lost()).toBe(result.run.partitions!.total);
    } finally {
      h.consumers.partitions = consumer;
      h.env.DYNAMODB_ENDPOINT = h.dynamo.endpoint;
    }
  });

  it('ends the run failed, with the reason, when a partition fails its last delivery (the message goes to the dead-letter queue)', async () => {
    const runId = runIdOf('poison');
    // Planned (in the tick's invocation) before the store starts refusing the flat folder's listings.
    expect(await h.main.scheduledRun({ sourceId: 'poison', time: tick.toISOString() }, h.context())).toEqual({ runId, result: 'partitioned' });
    await whileListingsRefusedAfter(h, 'poison/flat/', () => h.pump(finished(runId), 60_000));
    const failed = (await run(runId))!;
    expect(failed.phase).toBe('failed');
    expect(failed.error).toMatch(/^submitting partition \d+ gave up after the last delivery: .*Access ?Denied/i);
    expect(h.deadLetters.length).toBeGreaterThanOrEqual(1);
    expect(h.deadLetters.every((d) => d.queue === 'partitions' && (d.body as { runId: string }).runId === runId)).toBe(true);
    // The summary says so too.
    const summary = JSON.parse(await text(await h.stack.store('results').read(`out/${runId}/summary.json`))) as { status: string; error: string };
    expect(summary).toMatchObject({ status: 'failed', error: failed.error });
    expect(h.stack.roboflow.jobsStarted()).not.toContain(failed.jobId);
  });
});

interface DynamoAnswerDropper {
  url: string;
  /** The answer to the first request of each item matching `match` (by its target and body) is lost: the write happens, the connection drops. */
  loseOnce(match: (target: string, body: string) => boolean): void;
  lost(): number;
  close(): Promise<void>;
}

/** A pass-through proxy to DynamoDB (dynalite) that loses chosen answers, as when a connection drops after the write landed. */
async function startDynamoAnswerDropper(endpoint: string): Promise<DynamoAnswerDropper> {
  const upstream = new URL(endpoint);
  let match: (target: string, body: string) => boolean = () => false;
  const seen = new Set<string>();
  let lost = 0;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const target = String(req.headers['x-amz-target'] ?? '');
    const key = JSON.stringify((JSON.parse(body || '{}') as { Key?: unknown }).Key ?? null);
    const lose = match(target, body) && !seen.has(key);
    if (lose) seen.add(key);
    const forward = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      const answer: Buffer[] = [];
      up.on('data', (c: Buffer) => answer.push(c));
      up.on('end', () => {
        if (lose) {
          lost++;
          req.socket.destroy();
          return;
        }
        res.writeHead(up.statusCode ?? 502, up.headers).end(Buffer.concat(answer));
      });
    });
    forward.on('error', () => res.destroy());
    forward.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    loseOnce: (m) => {
      match = m;
    },
    lost: () => lost,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
