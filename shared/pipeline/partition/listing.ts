import type { Logger } from '../../log';
import type { ListPage, ObjectStore } from '../../storage/port';
import { compareKeys } from './key-order';
import { readInventoryPartition } from './inventory';
import { partitionAfter, withinBounds, type Partition } from './partition';
import { planPartitions } from './plan';

/**
 * Checkpoint tokens of a partitioned listing: "every key up to this one is done". Listing tokens
 * of S3 and GCS never hold a ':', so the two kinds cannot be confused in a run's checkpoint.
 */
const AFTER_MARK = 'after:';
/** Partitions planned per listing at once: uneven partitions still keep every slot busy. */
const PARTITIONS_PER_SLOT = 4;

export interface SourceListingOptions {
  pageSize: number;
  /** An earlier page's `nextToken`: a store token, or a partitioned listing's position. */
  startToken?: string;
  /** Partitions listed at once; 1 lists the prefix as one listing, as runs always did. */
  concurrency: number;
  log?: Logger;
}

/**
 * The pages of a run's source prefix. With a concurrency above 1 the prefix is planned into
 * partitions (see plan.ts) that are listed in parallel and handed on in partition order, so the
 * pages come in the store's key order exactly as one listing would give them (only cut into
 * pages differently), and each page's token is the position after its last key. A run resumed
 * from such a position lists on after it, in partitions or (concurrency 1) as one listing.
 * A store token (a run started with one listing) can only be continued as one listing.
 */
export function listSource(store: ObjectStore, prefix: string, options: SourceListingOptions): AsyncIterable<ListPage> {
  const after = options.startToken?.startsWith(AFTER_MARK) ? options.startToken.slice(AFTER_MARK.length) : undefined;
  const storeToken = after === undefined ? options.startToken : undefined;
  if (options.concurrency <= 1 || storeToken !== undefined) {
    return store.list(prefix, { pageSize: options.pageSize, startToken: storeToken, startAfter: after || undefined });
  }
  return listPartitioned(store, prefix, { ...options, after });
}

async function* listPartitioned(
  store: ObjectStore,
  prefix: string,
  options: { pageSize: number; concurrency: number; after?: string; log?: Logger },
): AsyncGenerator<ListPage> {
  const started = Date.now();
  const planned = await planPartitions(store, prefix, { target: options.concurrency * PARTITIONS_PER_SLOT, concurrency: options.concurrency, pageSize: options.pageSize });
  const partitions = options.after ? planned.flatMap((p) => partitionAfter(p, options.after!) ?? []) : planned;
  options.log?.info('source split into partitions', { prefix, partitions: partitions.length, concurrency: options.concurrency, ms: Date.now() - started });
  let position = options.after ?? '';
  let held: ListPage | undefined;
  for await (const objects of orderedMerge(partitions.map((p) => () => listPartition(store, p, options.pageSize)), options.concurrency)) {
    if (held) yield { ...held, nextToken: AFTER_MARK + position };
    position = objects.at(-1)?.key ?? position;
    held = { objects };
  }
  // The last page is known only once every partition has ended: it carries no token.
  yield held ?? { objects: [] };
}

/** Where a partition's objects are: the source bucket's store, and the inventory bucket's for inventory partitions. */
export interface PartitionStores {
  source: ObjectStore;
  inventory?: ObjectStore;
}

/**
 * A partition's objects in pages of at most `pageSize` (key order, but for inventory partitions),
 * each with the part of the partition still to be read after it (`rest`; absent after the last
 * page): an invocation that stops after a page hands `rest` on.
 */
export async function* listPartitionPages(
  stores: PartitionStores | ObjectStore,
  partition: Partition,
  pageSize: number,
): AsyncGenerator<{ objects: ListPage['objects']; rest?: Partition }> {
  const { source, inventory } = 'source' in stores ? stores : { source: stores, inventory: undefined };
  if (partition.kind === 'inventory') {
    const store = inventory ?? (source.bucket === partition.bucket ? source : undefined);
    if (!store) throw new Error(`an inventory partition needs a store of its inventory bucket ${partition.bucket}`);
    let held: { objects: ListPage['objects']; position: number } | undefined;
    for await (const page of readInventoryPartition(store, partition, pageSize)) {
      if (held) yield { objects: held.objects, rest: { ...partition, skipRows: held.position } };
      held = page;
    }
    yield { objects: held?.objects ?? [] };
    return;
  }
  if (partition.kind === 'objects') {
    for (let i = 0; i < partition.objects.length; i += pageSize) {
      const rest = partition.objects.slice(i + pageSize);
      yield { objects: partition.objects.slice(i, i + pageSize), ...(rest.length > 0 ? { rest: { kind: 'objects', objects: rest } } : {}) };
    }
    if (partition.objects.length === 0) yield { objects: [] };
    return;
  }
  let held: { objects: ListPage['objects']; last?: string } | undefined;
  let last = partition.after;
  for await (const page of source.list(partition.prefix, { pageSize, startAfter: partition.after })) {
    const objects = page.objects.filter((o) => withinBounds(partition, o.key));
    if (held) yield { objects: held.objects, rest: last === undefined ? partition : partitionAfter(partition, last) };
    last = page.objects.at(-1)?.key ?? last;
    held = { objects };
    // The store lists in key order: past the upper bound, the next partition's keys begin.
    const beyond = partition.upTo !== undefined && page.objects.some((o) => compareKeys(o.key, partition.upTo!) > 0);
    if (beyond) break;
  }
  yield { objects: held?.objects ?? [] };
}

/** A partition's objects in pages of at most `pageSize` (see listPartitionPages). */
export async function* listPartition(stores: PartitionStores | ObjectStore, partition: Partition, pageSize: number): AsyncGenerator<ListPage['objects']> {
  for await (const page of listPartitionPages(stores, partition, pageSize)) yield page.objects;
}

/** Pages listed ahead of the one being handed on, per partition listed at once. */
const PAGES_AHEAD = 8;

/**
 * Runs at most `concurrency` sources at once, started in order, and yields all of the first
 * source's items, then all of the second's, and so on. Sources ahead of the one being read hold
 * at most concurrency × PAGES_AHEAD items between them (each then waits for the reader), so
 * memory stays bounded however many sources there are. The source being read is never held back
 * and always runs (sources start in order), so the merge cannot stall.
 * The first source error ends the merge with that error.
 */
export async function* orderedMerge<T>(sources: Array<() => AsyncIterable<T>>, concurrency: number): AsyncGenerator<T> {
  const budget = new AheadBudget(concurrency * PAGES_AHEAD);
  let reading = 0;
  const buffers = sources.map((_, index) => new Buffered<T>(budget, () => index === reading));
  let started = 0;
  let running = 0;
  let failure: { error: unknown } | undefined;
  const wake = new Set<() => void>();
  const notify = () => {
    for (const w of [...wake]) w();
    wake.clear();
  };
  const startMore = () => {
    while (running < concurrency && started < sources.length && !failure) {
      const index = started++;
      running++;
      void drain(sources[index]!, buffers[index]!).then(
        () => {
          running--;
          startMore();
          notify();
        },
        (error: unknown) => {
          failure ??= { error };
          running--;
          notify();
        },
      );
    }
  };
  startMore();
  try {
    for (; reading < buffers.length; reading++) {
      const buffer = buffers[reading]!;
      budget.wakeAll(); // its producer may wait for room it no longer needs
      for (;;) {
        if (failure) throw failure.error;
        const item = buffer.take();
        if (item.value !== undefined) {
          yield item.value.item;
          continue;
        }
        if (item.ended) break;
        await new Promise<void>((resolve) => {
          wake.add(resolve);
          buffer.onChange = notify;
        });
      }
    }
  } finally {
    failure ??= { error: new Error('merge closed') };
    for (const buffer of buffers) buffer.close();
    budget.wakeAll();
  }
}

async function drain<T>(source: () => AsyncIterable<T>, buffer: Buffered<T>): Promise<void> {
  for await (const item of source()) {
    if (!(await buffer.put(item))) return;
  }
  buffer.end();
}

/** Items held by the sources ahead of the one being read, shared by all of them. */
class AheadBudget {
  held = 0;
  private readonly waiting = new Set<() => void>();
  constructor(readonly limit: number) {}

  wait(): Promise<void> {
    return new Promise((resolve) => this.waiting.add(resolve));
  }

  wakeAll(): void {
    for (const w of [...this.waiting]) w();
    this.waiting.clear();
  }
}

/** The queue between one producer and the merge. */
class Buffered<T> {
  private readonly items: T[] = [];
  private ended = false;
  private closed = false;
  onChange: (() => void) | undefined;

  constructor(
    private readonly budget: AheadBudget,
    private readonly isRead: () => boolean,
  ) {}

  /** Resolves false when the merge no longer reads (the producer should stop). */
  async put(item: T): Promise<boolean> {
    while (!this.closed && (this.isRead() ? this.items.length >= PAGES_AHEAD : this.budget.held >= this.budget.limit)) await this.budget.wait();
    if (this.closed) return false;
    this.items.push(item);
    this.budget.held++;
    this.onChange?.();
    return true;
  }

  end(): void {
    this.ended = true;
    this.onChange?.();
  }

  take(): { value?: { item: T }; ended: boolean } {
    if (this.items.length > 0) {
      const item = this.items.shift()!;
      this.budget.held--;
      this.budget.wakeAll();
      return { value: { item }, ended: false };
    }
    return { ended: this.ended };
  }

  close(): void {
    this.closed = true;
  }
}
