import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeImage } from '../../sandbox/seed';
import { referenceName } from '../../shared/pipeline/name';
import type { RunRecord } from '../../shared/state/run-record';
import { listObjects } from '../support/s3';
import { startServerlessHarness, type ServerlessHarness } from '../support/serverless';
import { readChunks } from '../../shared/state/run-chunks';

/** An S3 "Object Created" event as EventBridge delivers it (here through an SQS target). */
function eventBridgeObjectCreated(bucket: string, key: string, size: number, etag: string) {
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [`arn:aws:s3:::${bucket}`],
    detail: {
      version: '0',
      bucket: { name: bucket },
      object: { key: encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+'), size, etag, sequencer: '0062E99A88DC407460' },
      'request-id': 'N4N7GDK58NMKJ12R',
      requester: '000000000000',
      'source-ip-address': '127.0.0.1',
      reason: 'PutObject',
    },
  };
}

/** A classic S3 event notification delivered straight to SQS. */
function s3Notification(bucket: string, key: string, size: number, etag: string) {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'bridge',
          bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
          object: { key: encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+'), size, eTag: etag, sequencer: '0055AED6DCD90281E5' },
        },
      },
    ],
  };
}

/** Hands events to the object-created handler as one SQS batch. */
function sendEvents(h: ServerlessHarness, bodies: unknown[]) {
  return h.main.objectCreated({
    Records: bodies.map((b, i) => ({
      messageId: `m-${Date.now()}-${i}`,
      receiptHandle: 'r',
      body: JSON.stringify(b),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 's', ApproximateFirstReceiveTimestamp: '0' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:object-events',
      awsRegion: 'us-east-1',
    })),
  });
}

describe('deployed object-created trigger', () => {
  let h: ServerlessHarness;

  beforeAll(async () => {
    h = await startServerlessHarness({ config: { debounce: { quietSeconds: 1, maxObjects: 1000 } } });
  });
  afterAll(() => h.close());

  async function put(key: string) {
    const body = fakeImage(key);
    await h.stack.store('media').write(key, body);
    return { key, size: body.length, etag: `etag-${key}` };
  }

  const send = (bodies: unknown[]) => sendEvents(h, bodies);

  it('debounces created objects into one run, ignoring duplicates, replays and the bridge\'s own outputs', async () => {
    const a = await put('incoming/new/a photo.jpg');
    const b = await put('incoming/new/b+plus.png');
    const c = await put('incoming/new/c.webp');
    const response = await send([
      eventBridgeObjectCreated('media', a.key, a.size, a.etag),
      eventBridgeObjectCreated('media', a.key, a.size, a.etag), // duplicated event
      s3Notification('media', b.key, b.size, b.etag),
      eventBridgeObjectCreated('media', 'incoming/new/readme.txt', 10, 'x'), // not an image
      eventBridgeObjectCreated('media', 'elsewhere/d.jpg', 10, 'y'), // outside the source prefix
      { Event: 's3:TestEvent', Bucket: 'media' },
    ]);
    expect(response.batchItemFailures).toEqual([]);
    await send([eventBridgeObjectCreated('media', c.key, c.size, c.etag), s3Notification('media', b.key, b.size, b.etag)]);
    expect(await h.main.runtime.pending.state('cams')).toMatchObject({ pending: 3 });

    const runs = async () => {
      const ids = new Set<string>();
      for (const d of h.deliveries) if (d.queue === 'start-job') ids.add((d.body as { runId: string }).runId);
      return [...ids];
    };
    const finished = async () => {
      const ids = await runs();
      if (ids.length === 0) return false;
      const records = await Promise.all(ids.map((id) => h.main.runtime.state.getRun(id)));
      return records.every((r) => r && ['completed', 'failed'].includes(r.phase));
    };
    await h.pump(finished, 20_000);

    const [runId, ...others] = await runs();
    expect(others).toEqual([]);
    const run = (await h.main.runtime.state.getRun(runId!)) as RunRecord;
    expect(run.phase, run.error).toBe('completed');
    expect(run).toMatchObject({ submitted: 3, ingested: 3 });
    expect(await h.main.runtime.pending.state('cams')).toMatchObject({ pending: 0 });
    const names = [];
    for await (const n of h.main.runtime.state.names(runId!)) names.push(n.key);
    expect(names.sort()).toEqual([a.key, b.key, c.key].sort());
  });

  it('submits a replayed event for an object that was already submitted only once', async () => {
    const jobsBefore = h.stack.roboflow.jobsStarted().length;
    const ingestsBefore = h.stack.roboflow.requests.filter((r) => r.path.endsWith('/bulk-upload/image-references')).length;
    const runsBefore = new Set(h.deliveries.filter((d) => d.queue === 'start-job').map((d) => (d.body as { runId: string }).runId));
    const key = 'incoming/new/a photo.jpg';
    await send([eventBridgeObjectCreated('media', key, fakeImage(key).length, `etag-${key}`)]);
    const newRun = () =>
      h.deliveries.filter((d) => d.queue === 'start-job').map((d) => (d.body as { runId: string }).runId).find((id) => !runsBefore.has(id));
    await h.pump(async () => newRun() !== undefined, 10_000);

    const replay = (await h.main.runtime.state.getRun(newRun()!))!;
    expect(replay).toMatchObject({ phase: 'completed', submitted: 0, skipped: { 'already-submitted': 1 } });
    expect(h.stack.roboflow.requests.filter((r) => r.path.endsWith('/bulk-upload/image-references')).length).toBe(ingestsBefore);
    expect(h.stack.roboflow.jobsStarted().length).toBe(jobsBefore);
  });
});

describe('deployed object-created trigger with Extend as the target', () => {
  let h: ServerlessHarness;

  beforeAll(async () => {
    h = await startServerlessHarness({
      target: 'extend',
      config: { sources: [{ id: 'docs', bucket: 'media', prefix: 'inbox/', onObjectCreated: true }], debounce: { quietSeconds: 1, maxObjects: 1000 } },
    });
  });
  afterAll(() => h.close());

  it('debounces dropped documents into one run of one Extend batch, with a result per document', async () => {
    const docs = ['inbox/po 1.pdf', 'inbox/po+2.docx'];
    const events = [];
    for (const key of [...docs, 'inbox/camera.raw']) {
      await h.stack.store('media').write(key, `content of ${key}`);
      events.push(eventBridgeObjectCreated('media', key, 10, `etag-${key}`));
    }
    expect((await sendEvents(h, events)).batchItemFailures).toEqual([]);
    expect(await h.main.runtime.pending.state('docs')).toMatchObject({ pending: 2 });

    const runId = () => h.deliveries.map((d) => (d.body as { runId?: string }).runId).find((id) => id !== undefined);
    await h.pump(async () => {
      const id = runId();
      return id !== undefined && ['completed', 'failed'].includes((await h.main.runtime.state.getRun(id))?.phase ?? '');
    }, 20_000);

    const run = (await h.main.runtime.state.getRun(runId()!))!;
    expect(run.phase, run.error).toBe('completed');
    expect(run).toMatchObject({ submitted: 2, spec: { media: 'documents', target: { name: 'extend' } } });
    expect((await readChunks(h.main.runtime.state, run.runId)).map((c) => c.targetRef)).toEqual([expect.stringMatching(/^bpr_/)]);
    const results = (await listObjects(h.stack.store('results'), `out/${run.runId}/results/`)).map((o) => o.key);
    expect(results.sort()).toEqual(docs.map((k) => `out/${run.runId}/results/${referenceName(k)}.json`).sort());
    expect(h.deliveries.every((d) => !d.failed)).toBe(true);
  });
});
