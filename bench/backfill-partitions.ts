import { FileStateStore } from '../shared/state/file-state';
import { PartitionRecord, EMPTY_PROGRESS, type PartitionClaim, type PartitionProgress, type PartitionRef, type PartitionStore } from '../shared/state/partition-store';

/**
 * The partition items in memory, with the same conditional rules as the DynamoDB items (one holder
 * at a time, progress only from the holder, done once) and the done count kept as the DynamoDB
 * adapter's count of done markers answers it: the file-backed store reads every item to count
 * them, which at a thousand partitions would measure the disk, not the fan-out.
 */
export class MemoryPartitions implements PartitionStore {
  private readonly items = new Map<string, PartitionRecord>();
  private readonly done = new Map<string, Set<number>>();

  async save(runId: string, plan: string, partitions: Array<{ index: number; descriptor: string }>): Promise<void> {
    for (const { index, descriptor } of partitions) this.items.set(id({ runId, plan, index }), { index, descriptor, status: 'pending', progress: EMPTY_PROGRESS });
  }

  async get(ref: PartitionRef): Promise<PartitionRecord | undefined> {
    const record = this.items.get(id(ref));
    return record && structuredClone(record);
  }

  async *list(runId: string, plan: string): AsyncGenerator<PartitionRecord> {
    for (let index = 0; this.items.has(id({ runId, plan, index })); index++) yield structuredClone(this.items.get(id({ runId, plan, index }))!);
  }

  async claim(ref: PartitionRef, owner: string, until: number, now: number): Promise<PartitionClaim> {
    const current = this.existing(ref);
    if (current.status === 'done') return 'done';
    if (current.lease && current.lease.until >= now && current.lease.owner !== owner) return 'busy';
    current.lease = { owner, until };
    return 'claimed';
  }

  async checkpoint(ref: PartitionRef, owner: string, progress: PartitionProgress): Promise<boolean> {
    const current = this.existing(ref);
    if (current.status === 'done' || current.lease?.owner !== owner) return false;
    current.progress = structuredClone(progress);
    return true;
  }

  async release(ref: PartitionRef, owner: string): Promise<void> {
    const current = this.existing(ref);
    if (current.lease?.owner === owner) delete current.lease;
  }

  async complete(ref: PartitionRef, progress: PartitionProgress): Promise<{ done: number }> {
    const current = this.existing(ref);
    const plan = `${ref.runId}#${ref.plan}`;
    if (current.status !== 'done') {
      Object.assign(current, { status: 'done', progress: structuredClone(progress) });
      delete current.lease;
      if (!this.done.has(plan)) this.done.set(plan, new Set());
      this.done.get(plan)!.add(ref.index);
    }
    return { done: this.done.get(plan)?.size ?? 0 };
  }

  async discard(runId: string, plan: string): Promise<void> {
    for (const key of [...this.items.keys()]) if (key.startsWith(`${runId}#${plan}#`)) this.items.delete(key);
    this.done.delete(`${runId}#${plan}`);
  }

  private existing(ref: PartitionRef): PartitionRecord {
    const current = this.items.get(id(ref));
    if (!current) throw new Error(`run ${ref.runId}: partition ${ref.index} of plan ${ref.plan} not found`);
    return current;
  }
}

function id(ref: PartitionRef): string {
  return `${ref.runId}#${ref.plan}#${ref.index}`;
}

/** File-backed state (names, chunks, the run) with the partition items in memory. */
export class BenchState extends FileStateStore {
  override readonly partitions: PartitionStore = new MemoryPartitions();
}
