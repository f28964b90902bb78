import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { childrenOf, EXPORT_GROUP_SIZE, EXPORT_TREE_LEVELS, nodesAt, type ExportTaskOrder } from '../export-order';
import { countItems, isConditionalCheckFailed, putIfAbsent } from './operations';
import { exportNodePrefix, keys, RUN_ITEM_PREFIX, runPartition } from './table';

/** What the run record says of its export plan: the task count (once listed) and the plan's pass. */
export interface ExportPlanState {
  total?: number;
  pass: number;
}

/** The claimant the planner's check claims completion as (task ids always contain a '/'). */
const PLANNER = '#plan';

/**
 * Tells when every task of a run's export has an outcome, reading a bounded number of items per
 * outcome (no transactions: single-item conditional writes only). Each outcome puts a mark under
 * its group in the completion tree (see export-order) and counts that group; the outcome that
 * finds its group full marks the group in its parent and counts the parent, and so on up to the
 * root. Every mark is idempotent, so a repeat or a retry after a crash climbs the same way.
 *
 * Which group is the last, and how many tasks it has, is known only once the planner stored the
 * total; everyone who cannot decide without it reads the run after its own writes, and the
 * planner, after storing the total, climbs the last node of each level itself. So whichever of the
 * two comes second sees the other's write: the last mark is never left unclimbed.
 *
 * Completion is claimed with a conditional put of one item: exactly one task id (or the planner)
 * is told the export is complete; a redelivery of that same task is told again, so a finisher that
 * died is retried with its message.
 */
export class DynamoExportCompletion {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly plan: (runId: string) => Promise<ExportPlanState | undefined>,
    private readonly size = EXPORT_GROUP_SIZE,
  ) {
    if (!Number.isInteger(size) || size < 2) throw new Error(`an export group needs at least 2 tasks, not ${size}`);
  }

  /** After the outcome item of `taskId` is stored: true if this call claimed the export complete. */
  async recorded(runId: string, taskId: string, order: ExportTaskOrder | undefined): Promise<boolean> {
    if (!order) return this.recordedUnordered(runId, taskId);
    const node = Math.floor(order.index / this.size);
    await putIfAbsent(this.doc, this.tableName, { ...keys.exportMark(runId, order.pass, 0, node, order.index), taskId });
    return this.climb(runId, taskId, order.pass, 0, node, undefined);
  }

  /** After the planner stored the total: the tasks may all have finished before it was known. */
  async planned(runId: string): Promise<boolean> {
    const plan = await this.plan(runId);
    if (plan?.total === undefined) return false;
    if (plan.total === 0) return this.claim(runId, PLANNER);
    return this.climb(runId, PLANNER, plan.pass, 0, nodesAt(plan.total, 0, this.size) - 1, plan);
  }

  private async climb(runId: string, claimant: string, pass: number, level: number, node: number, known: ExportPlanState | undefined): Promise<boolean> {
    let plan = known;
    for (; level < EXPORT_TREE_LEVELS; level++, node = Math.floor(node / this.size)) {
      const count = await countItems(this.doc, this.tableName, runPartition(runId), exportNodePrefix(pass, level, node));
      // Only a full group is known to be complete without the total; read it after our own writes.
      if (count < this.size && plan?.total === undefined) plan = await this.plan(runId);
      if (plan && plan.pass !== pass) return false; // numbered by a plan a retry pass replaced
      const total = plan?.total;
      if (total === undefined) {
        if (count < this.size) return false;
      } else {
        if (count < childrenOf(total, level, node, this.size)) return false;
        if (nodesAt(total, level, this.size) === 1) return this.claim(runId, claimant);
      }
      const parent = Math.floor(node / this.size);
      await putIfAbsent(this.doc, this.tableName, { ...keys.exportMark(runId, pass, level + 1, parent, node) });
    }
    return false;
  }

  /**
   * A task planned before tasks were numbered (a message from before an upgrade): its outcome is
   * checked as it always was, by counting every outcome recorded (exact: one item per task id).
   */
  private async recordedUnordered(runId: string, taskId: string): Promise<boolean> {
    const plan = await this.plan(runId);
    if (plan?.total === undefined) return false;
    const done = await countItems(this.doc, this.tableName, runPartition(runId), RUN_ITEM_PREFIX.task);
    return done >= plan.total && this.claim(runId, taskId);
  }

  private async claim(runId: string, claimant: string): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.exportDone(runId), claimant },
          ConditionExpression: 'attribute_not_exists(#pk) OR #claimant = :claimant',
          ExpressionAttributeNames: { '#pk': 'pk', '#claimant': 'claimant' },
          ExpressionAttributeValues: { ':claimant': claimant },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }
}
