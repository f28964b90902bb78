import { openDownload } from '../../shared/pipeline/download';
import type { BatchTarget, OutputFile } from '../../shared/targets/port';

/**
 * Only what export uses: a finished job (output batch `job-export`) whose result files are `files`,
 * listed two per page, opened from their URLs; everything else is unreachable.
 */
export function exportOnlyTarget(files: OutputFile[]): BatchTarget {
  const unused = () => {
    throw new Error('not used by export');
  };
  return {
    name: 'fake',
    intake: 'references-file',
    maxPerChunk: unused,
    maxObjectBytes: unused,
    checkAccess: unused,
    submitChunk: unused,
    parseWebhook: unused,
    ingestProgress: unused,
    stagedNames: unused,
    startJob: unused,
    jobOutcome: async () => ({ terminal: true, failed: false, outputBatches: ['job-export'] }),
    openOutput: (locator, label) => (locator.kind === 'url' ? openDownload(locator.url, label) : Promise.reject(new Error('urls only'))),
    async *outputFiles(_run, batchId) {
      if (batchId !== 'job-export') throw new Error(`unexpected output batch ${batchId}`);
      for (let i = 0; i < files.length; i += 2) yield files.slice(i, i + 2);
    },
  };
}
