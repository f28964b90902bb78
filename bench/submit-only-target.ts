import { MAX_REFERENCES_PER_CHUNK } from '../shared/media';
import type { BatchTarget } from '../shared/targets/port';

const notUsed = () => {
  throw new Error('not used by the submission benches');
};

/**
 * A target for benches that only submit: references files are taken (`submitChunk`, given), the
 * Roboflow limits apply, and anything after the submission throws.
 */
export function submitOnlyTarget(parts: Pick<BatchTarget, 'name' | 'submitChunk'> & Partial<Pick<BatchTarget, 'maxPerChunk' | 'maxObjectBytes'>>): BatchTarget {
  return {
    intake: 'references-file',
    maxPerChunk: (media) => (media === 'documents' ? 1000 : MAX_REFERENCES_PER_CHUNK[media]),
    maxObjectBytes: (media) => (media === 'images' ? 20 * 1024 * 1024 : undefined),
    checkAccess: async () => undefined,
    parseWebhook: notUsed,
    ingestProgress: async () => notUsed(),
    stagedNames: notUsed,
    startJob: async () => notUsed(),
    jobOutcome: async () => notUsed(),
    openOutput: async () => notUsed(),
    outputFiles: notUsed,
    ...parts,
  } as BatchTarget;
}
