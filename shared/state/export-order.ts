import { z } from 'zod';
import type { RunRecord } from './run-record';

/**
 * A task's place in its export plan: its `index` in the planner's listing order (0, 1, 2, ...) and
 * the plan `pass` that numbered it (a retry pass plans the export again and numbers its tasks
 * afresh). The same listing gives the same numbers, so a replayed plan message numbers alike.
 */
export const ExportTaskOrder = z.object({ pass: z.number().int().nonnegative(), index: z.number().int().nonnegative() });
export type ExportTaskOrder = z.infer<typeof ExportTaskOrder>;

/**
 * Completion of an export is tracked in a tree: level 0 groups the tasks EXPORT_GROUP_SIZE at a
 * time by index, each level above groups the nodes below it as many at a time, up to one root.
 * Recording an outcome counts its own group (at most this many items) and, when that is full,
 * the group's parent, and so on: a bounded number of items whatever the number of tasks.
 */
export const EXPORT_GROUP_SIZE = 100;

/** The pass a run's export is planned in now. */
export const exportPass = (run: Pick<RunRecord, 'retried'>): number => (run.retried ? 1 : 0);

/** How many nodes `level` of the tree has for `total` tasks, `size` children a node. */
export function nodesAt(total: number, level: number, size = EXPORT_GROUP_SIZE): number {
  let n = total;
  for (let l = 0; l <= level; l++) n = Math.ceil(n / size);
  return Math.max(1, n);
}

/** How many children (tasks at level 0, nodes of the level below above it) node `node` of `level` has. */
export function childrenOf(total: number, level: number, node: number, size = EXPORT_GROUP_SIZE): number {
  const below = level === 0 ? total : nodesAt(total, level - 1, size);
  return Math.max(0, Math.min(size, below - node * size));
}

/** The levels a tree may have (a bound on the climb: 2 ** 32 tasks need 32 levels of 2). */
export const EXPORT_TREE_LEVELS = 32;
