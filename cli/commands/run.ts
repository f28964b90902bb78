import type { Logger } from '../../shared/log';
import { pickInventory, type InventoryRequest, type InventorySource } from '../../shared/pipeline/partition/inventory-location';
import type { BridgeDeps } from '../../shared/run/deps';
import { newRunId } from '../../shared/run/run-id';
import type { RunSpec } from '../../shared/state/run-record';
import { startRun } from '../../shared/run/start-run';
import { FileStateStore } from '../../shared/state/file-state';
import { OwnerFiles } from '../../shared/state/owner-files';
import { cliEnvironment } from '../environment';
import type { CliIo } from '../io';
import { runOptions } from '../options';
import { driveRun } from '../drive-run';
import { warnUnfinishedRuns } from '../unfinished-runs';

/** `bucket-bridge run`: the whole loop. Exit 0 only when the results are in the destination. */
export async function runCommand(argv: string[], io: CliIo): Promise<number> {
  const options = runOptions(argv);
  const stateDir = options.stateDir ?? cliEnvironment(io.env, options.spec.target.name).BUCKET_BRIDGE_STATE_DIR;
  const runId = newRunId();
  return driveRun(io, { command: 'run', runId, spec: options.spec }, { ...options, stateDir }, async ({ deps, log, own }) => {
    await warnUnfinishedRuns(new FileStateStore(stateDir), new OwnerFiles(stateDir), options.spec, log);
    const spec = options.inventory ? { ...options.spec, inventory: await inventoryOf(deps, options.inventory, options.spec, log) } : options.spec;
    const started = await startRun(deps, spec, runId, { onCreated: own });
    log.info('run started', { runId: started.runId, batchId: started.batchId, jobId: started.jobId });
    return {};
  });
}

/** The inventory manifest the run reads, checked before the run exists (a bad one leaves nothing behind). */
async function inventoryOf(deps: BridgeDeps, request: InventoryRequest, spec: RunSpec, log: Logger): Promise<InventorySource> {
  const picked = await pickInventory(deps.inventory!, request, { sourceBucket: spec.source.bucket });
  log.info('objects read from an S3 Inventory', { manifest: picked.source.manifestKey, format: picked.manifest.fileFormat, dataFiles: picked.manifest.files.length, createdAt: picked.createdAt?.toISOString() });
  return picked.source;
}
