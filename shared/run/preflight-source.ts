import { errorMessage, InputError } from '../errors';
import type { RunSpec } from '../state/run-record';
import type { BridgeDeps } from './deps';
import { preflight } from './preflight';
import type { ServerlessPorts } from './serverless-ports';
import { deployedSettingNames } from './setting-names';

/**
 * The preflight of a deployed run of one configured source, settings named as in the deployment's
 * configuration. A failure is logged as an error (with the setting at fault) and thrown, so the
 * invocation fails visibly and nothing is submitted.
 */
export async function preflightSource(ports: ServerlessPorts, deps: BridgeDeps, spec: RunSpec, sourceId: string): Promise<void> {
  try {
    await preflight(deps, spec, deployedSettingNames(sourceId, spec.target.name));
  } catch (err) {
    const fields = err instanceof InputError ? { setting: err.field, expected: err.expected } : {};
    ports.log.error('preflight failed: nothing was submitted', { sourceId, reason: errorMessage(err), ...fields });
    throw err;
  }
}
