import { InputError } from '../errors';
import { presignObject } from '../pipeline/presign';
import type { RunSpec } from '../state/run-record';
import type { BridgeDeps } from './deps';

/**
 * Lets the target judge the run's signed URLs before anything is written, from a sample signed the
 * way the references files will be (in the manifest folder, with the run's lifetime; never stored).
 */
export async function checkSignedUrls(deps: Pick<BridgeDeps, 'source' | 'target'>, spec: RunSpec, field: string): Promise<void> {
  const sample = () => presignObject(deps.source, `${spec.manifestPrefix}preflight-sample.jsonl`, spec.urlLifetimeSeconds);
  const problem = await deps.target.checkSignedUrls?.(sample);
  if (problem) throw new InputError(field, problem.expected, problem.received);
}
