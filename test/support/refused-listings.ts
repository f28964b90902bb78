import type { ServerlessHarness } from './serverless';

/**
 * Runs `work` while the harness's S3 proxy refuses (403 AccessDenied, not retried) every listing
 * that starts after a key under `folder`: partitions are key ranges of the source prefix, so the
 * ranges cut inside that folder fail on every delivery, the others list as usual.
 */
export async function whileListingsRefusedAfter<T>(h: ServerlessHarness, folder: string, work: () => Promise<T>): Promise<T> {
  h.proxy!.failWith({
    match: (r) => r.method === 'GET' && r.query.get('list-type') === '2' && (r.query.get('start-after') ?? '').startsWith(folder),
    status: 403,
    code: 'AccessDenied',
    message: 'scripted',
    count: 1_000,
  });
  try {
    return await work();
  } finally {
    h.proxy!.reset();
  }
}
