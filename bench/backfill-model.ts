import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { compareKeys } from '../shared/pipeline/partition/key-order';
import type { Partition } from '../shared/pipeline/partition/partition';
import type { ListOptions, ListPage, ObjectStore, PresignOptions, StoredObject, WriteBody } from '../shared/storage/port';
import { createS3Client } from '../shared/storage/s3-client';
import { S3Store } from '../shared/storage/s3-store';
import type { BatchTarget } from '../shared/targets/port';
import { submitOnlyTarget } from './submit-only-target';

/**
 * The latency model of the simulated backfill: what each request to AWS or the target costs in
 * wall time. Every figure is a sleep around real work (signing, naming, references files, state
 * on disk are all real).
 */
export const MODEL = {
  /** One ListObjectsV2 request (a page of up to 1,000 keys, or a planning probe). */
  listMs: 50,
  /** One DynamoDB request. */
  dynamoMs: 8,
  /** Items per BatchWriteItem request (DynamoDB's limit), and such requests in flight at once (the adapter's batchConcurrency). */
  itemsPerBatch: 25,
  batchesInFlight: 4,
  /** One PutObject or UploadPart request (a references file): a fixed part and the bytes at a given rate. */
  putMs: 30,
  putMBps: 100,
  /** A streamed write goes multipart past one part, parts sent while the stream goes on, a few in flight (as shared/storage/s3-store.ts uploads). */
  partBytes: 8 * 1024 * 1024,
  partsInFlight: 4,
  /** One ingest request to the target (a references file handed to Roboflow). */
  ingestMs: 200,
  /** A Lambda invocation's budget. */
  invocationMinutes: 15,
  /** What handing on costs in wall time: the queue delivery, a cold start, reading the run again. */
  handOnMs: 1500,
  /** CPUs of one invocation (Lambda at 1,769 MB and above has one vCPU). */
  cpusPerInvocation: 1,
} as const;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The calling thread's CPU seconds so far, and the seconds it was ready to run but waited for a core (Linux schedstat; 0 when unknown). */
export function threadTimes(): { cpu: number; waited: number } {
  try {
    const [cpu, waited] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number);
    return { cpu: cpu! / 1e9, waited: waited! / 1e9 };
  } catch {
    return { cpu: 0, waited: 0 };
  }
}

/** How the bucket's keys are laid out: folders of numbered images, or one flat folder of numbered names. */
export type Layout = { kind: 'folders'; folders: number; perFolder: number } | { kind: 'flat'; count: number };

export function layoutCount(layout: Layout): number {
  return layout.kind === 'folders' ? layout.folders * layout.perFolder : layout.count;
}

/** Keys no object can have after them: past every common prefix's keys. */
const PAST_FOLDER = '\u{10FFFF}';

/**
 * A bucket whose keys are generated on the fly from their index (nothing of the listing is held
 * in memory), listing as S3 does: key order, `StartAfter`, `Delimiter` with common prefixes
 * counted against the page size, continuation after the last entry. Each listing request sleeps
 * MODEL.listMs; presigning is the real S3 signer (no request is sent); references files are read
 * to their end, counted and dropped, each PUT sleeping for its size.
 */
export class ModelBucket implements ObjectStore {
  readonly bucket = 'media';
  readonly count: number;
  listRequests = 0;
  files = 0;
  bytes = 0;
  private readonly written = new Map<string, number>();
  private readonly signer = new S3Store(
    createS3Client({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'BENCH', secretAccessKey: 'BENCH' } }),
    'media',
  );

  constructor(
    readonly root: string,
    private readonly layout: Layout,
  ) {
    this.count = layoutCount(layout);
  }

  keyAt(i: number): string {
    const { layout } = this;
    if (layout.kind === 'flat') return `${this.root}img_${String(i).padStart(8, '0')}.jpg`;
    const folder = Math.floor(i / layout.perFolder);
    return `${this.root}f${String(folder).padStart(4, '0')}/img_${String(i % layout.perFolder).padStart(6, '0')}.jpg`;
  }

  /** Index of the first key above `bound` (at or above it when `inclusive`). */
  private firstAbove(bound: string, inclusive = false): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const c = compareKeys(this.keyAt(mid), bound);
      if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ListPage> {
    const pageSize = options.pageSize ?? 1000;
    const after = options.startToken ?? options.startAfter;
    let i = after !== undefined && compareKeys(after, prefix) >= 0 ? this.firstAbove(after) : this.firstAbove(prefix, true);
    for (;;) {
      this.listRequests++;
      await sleep(MODEL.listMs);
      const objects: StoredObject[] = [];
      const commonPrefixes: string[] = [];
      let last = '';
      while (i < this.count && objects.length + commonPrefixes.length < pageSize) {
        const key = this.keyAt(i);
        if (!key.startsWith(prefix)) {
          i = this.count;
          break;
        }
        const cut = options.delimiter ? key.indexOf(options.delimiter, prefix.length) : -1;
        if (cut !== -1) {
          commonPrefixes.push(key.slice(0, cut + 1));
          last = key.slice(0, cut + 1) + PAST_FOLDER;
          i = this.firstAbove(last);
          continue;
        }
        objects.push({ key, size: 150_000 + (i % 997), etag: `"e${i}"` });
        last = key;
        i++;
      }
      const more = i < this.count && this.keyAt(i).startsWith(prefix);
      yield { objects, nextToken: more ? last : undefined, ...(options.delimiter ? { commonPrefixes } : {}) };
      if (!more) return;
    }
  }

  /** How many of the bucket's keys a planned partition holds. */
  countIn(partition: Partition): number {
    if (partition.kind !== 'range') return partition.kind === 'objects' ? partition.objects.length : 0;
    const { prefix, after, upTo } = partition;
    const from = after !== undefined && compareKeys(after, prefix) >= 0 ? this.firstAbove(after) : this.firstAbove(prefix, true);
    const underPrefix = this.firstAbove(prefix + PAST_FOLDER);
    const to = upTo === undefined ? underPrefix : Math.min(underPrefix, this.firstAbove(upTo));
    return Math.max(0, to - from);
  }

  presignGet(key: string, options: PresignOptions): Promise<string> {
    return this.signer.presignGet(key, options);
  }

  async write(key: string, body: WriteBody): Promise<{ bytes: number }> {
    const bytes = typeof body === 'string' || Buffer.isBuffer(body) ? Buffer.byteLength(body) : await streamedUpload(body as Readable);
    if (bytes <= MODEL.partBytes) await sleep(putTime(bytes));
    this.written.set(key, bytes);
    this.files++;
    this.bytes += bytes;
    return { bytes };
  }

  read(key: string): Promise<Readable> {
    return Promise.reject(new Error(`${key}: the model bucket keeps no bytes`));
  }

  async sizeOf(key: string): Promise<number | undefined> {
    await sleep(MODEL.putMs);
    return this.written.get(key);
  }

  async delete(key: string): Promise<void> {
    this.written.delete(key);
  }

  credentialsExpiry(): Promise<Date | undefined> {
    return Promise.resolve(undefined);
  }
}

/** One PutObject or UploadPart request of `bytes`. */
function putTime(bytes: number): number {
  return MODEL.putMs + bytes / (MODEL.putMBps * 1000);
}

/**
 * A streamed body as the store's multipart upload sends it: each full part while the stream goes
 * on (the multipart upload created before the first; a few parts in flight, the stream waiting
 * when they are all busy), then the last part and the completion. A body of one part or less is
 * one PutObject, timed by the caller. Answers the bytes read.
 */
async function streamedUpload(body: Readable): Promise<number> {
  let bytes = 0;
  let buffered = 0;
  let created: Promise<void> | undefined;
  const inFlight = new Set<Promise<void>>();
  const send = (size: number) => {
    created ??= sleep(MODEL.putMs);
    const part: Promise<void> = created.then(() => sleep(putTime(size))).then(() => void inFlight.delete(part));
    inFlight.add(part);
  };
  for await (const chunk of body) {
    bytes += (chunk as Buffer).length;
    buffered += (chunk as Buffer).length;
    while (buffered > MODEL.partBytes) {
      if (inFlight.size >= MODEL.partsInFlight) await Promise.race(inFlight);
      send(MODEL.partBytes);
      buffered -= MODEL.partBytes;
    }
  }
  if (!created) return bytes;
  if (buffered > 0) send(buffered);
  await Promise.all(inFlight);
  await sleep(MODEL.putMs);
  return bytes;
}

/** DynamoDB round trips one state call waits for in the deployed adapter (shared/state/dynamo). */
function dynamoRoundTrips(method: string, args: unknown[]): number {
  // Names, and a plan's partition items: BatchWriteItem requests of 25, a few in flight at once.
  const batch = (items: unknown[]) => Math.max(1, Math.ceil(Math.ceil(items.length / MODEL.itemsPerBatch) / MODEL.batchesInFlight));
  if (method === 'appendNames') return batch(args[1] as unknown[]);
  if (method === 'save') return batch(args[2] as unknown[]);
  // Read-modify-write: a read, then a conditional write.
  if (method === 'updateRun' || method === 'updateChunk') return 2;
  // The conditional write, then the count of done markers.
  if (method === 'complete') return 2;
  return 1;
}

/**
 * The state store with DynamoDB's latency: every call that answers with a promise also waits
 * MODEL.dynamoMs per round trip the deployed adapter makes for it. Nested stores (the partition items) are wrapped alike; listings (async
 * iterables) pass through.
 */
export function withDynamoLatency<T extends object>(state: T): T {
  return new Proxy(state, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value === 'object' && value !== null) return withDynamoLatency(value);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (!(result instanceof Promise)) return result;
        return sleep(MODEL.dynamoMs * dynamoRoundTrips(String(property), args)).then(() => result);
      };
    },
  });
}

/** A target that takes every references file after MODEL.ingestMs (the ingest request). */
export function modelTarget(): BatchTarget & { ingests: number } {
  const target = submitOnlyTarget({
    name: 'roboflow',
    submitChunk: async () => {
      target.ingests++;
      await sleep(MODEL.ingestMs);
      return { duplicated: false };
    },
  }) as BatchTarget & { ingests: number };
  target.ingests = 0;
  return target;
}
