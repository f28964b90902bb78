import { randomBytes } from 'node:crypto';
import { errorMessage, InputError } from '../errors';
import { formatLocation } from '../location';
import type { RunSpec } from '../state/run-record';
import { storeRefusal } from '../storage/refusal';
import type { BridgeDeps } from './deps';
import { cliSettingNames, type SettingNames } from './setting-names';
import { checkSignedUrls } from './signed-url-check';

/** Name of the object written (and removed again) to check that the destination takes writes. */
export const PROBE_NAME_PREFIX = '.bucket-bridge-probe-';
const PROBE_BODY = 'bucket-bridge checks that it can write here; this object is removed at once.\n';

/**
 * Checks, before anything is written for the run or submitted (no credits spent), that the run
 * can go end to end: the target takes URLs signed as the run's will be (when it judges them and the
 * run sends references), the source lists (one page), the destination takes a probe write under
 * the run's destination prefix (removed again), and the target accepts the key in the run's workspace. A setting that cannot
 * work throws an InputError naming it; a transient failure (once the stores' and clients' own
 * retries are spent) throws as a plain error, never as bad input.
 */
export async function preflight(deps: BridgeDeps, spec: RunSpec, names: SettingNames = cliSettingNames(spec.target.name)): Promise<void> {
  // Upload mode hands the target bytes, never a URL: only references are judged.
  if (spec.ingest !== 'upload') await checkSignedUrls(deps, spec, names.source);
  await checkSourceLists(deps, spec, names.source);
  await checkDestinationWrites(deps, spec, names.dest);
  await checkTargetAccess(deps, names);
}

async function checkSourceLists(deps: BridgeDeps, spec: RunSpec, field: string): Promise<void> {
  const where = formatLocation(spec.source, spec.source.prefix);
  try {
    for await (const _page of deps.source.list(spec.source.prefix, { pageSize: 1 })) break;
  } catch (err) {
    throw refusedOr(err, { field, expected: 'a bucket and prefix the credentials can list', action: 'listing', where, received: where });
  }
}

async function checkDestinationWrites(deps: BridgeDeps, spec: RunSpec, field: string): Promise<void> {
  const key = `${spec.dest.prefix}${PROBE_NAME_PREFIX}${randomBytes(6).toString('hex')}`;
  const where = formatLocation(spec.dest, key);
  try {
    await deps.dest.write(key, PROBE_BODY, { contentType: 'text/plain; charset=utf-8', expectedBytes: Buffer.byteLength(PROBE_BODY) });
  } catch (err) {
    const received = formatLocation(spec.dest, spec.dest.prefix);
    throw refusedOr(err, { field, expected: 'a destination the credentials can write to', action: 'a probe write', where, received });
  }
  try {
    await deps.dest.delete(key);
  } catch (err) {
    // Writing is what a run needs; a policy without delete only leaves this small object behind.
    deps.log.warn('destination check: the probe object could not be removed', { bucket: spec.dest.bucket, key, reason: errorMessage(err) });
  }
}

async function checkTargetAccess(deps: BridgeDeps, names: SettingNames): Promise<void> {
  let problem;
  try {
    problem = await deps.target.checkAccess();
  } catch (err) {
    throw new Error(`preflight: checking access to ${deps.target.name} failed: ${errorMessage(err)}`, { cause: err });
  }
  if (problem) throw new InputError(problem.setting === 'api-key' ? names.apiKey : names.workspace, problem.expected, problem.received);
}

interface StoreCheck {
  field: string;
  expected: string;
  /** What was tried, and on which object or prefix. */
  action: string;
  where: string;
  received: string;
}

/** A refusal is bad input naming the setting; anything else (throttling, 5xx, the network) is not. */
function refusedOr(err: unknown, check: StoreCheck): Error {
  const refusal = storeRefusal(err);
  // Store errors usually name the operation and the object already.
  const detail = (text: string) => (text.includes(check.where) ? text : `${check.where}: ${text}`);
  if (refusal !== undefined) return new InputError(check.field, `${check.expected} (${check.action} was refused: ${detail(refusal)})`, check.received);
  return new Error(`preflight: ${check.action} failed: ${detail(errorMessage(err))}`, { cause: err });
}
