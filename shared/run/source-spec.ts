import type { BridgeConfig, SourceConfig } from '../config/bridge-config';
import { runTarget } from '../config/target-config';
import type { RunSpec } from '../state/run-record';

export function sourceById(config: BridgeConfig, sourceId: string): SourceConfig {
  const source = config.sources.find((s) => s.id === sourceId);
  if (!source) throw new Error(`no source "${sourceId}" in the configuration`);
  return source;
}

/** The run a configured source asks for (scheduled or object-created). */
export function specForSource(config: BridgeConfig, source: SourceConfig): RunSpec {
  return {
    source: { scheme: source.store === 'gcs' ? 'gs' : 's3', bucket: source.bucket, prefix: source.prefix },
    dest: { scheme: 's3', bucket: config.destination.bucket, prefix: config.destination.prefix },
    media: source.media,
    target: runTarget(config.target),
    urlLifetimeSeconds: config.urlLifetimeSeconds,
    manifestPrefix: config.manifestPrefix,
    keepArchives: config.keepArchives,
    resultsLayout: config.resultsLayout,
    ...(config.target.name === 'roboflow' && config.target.ingest ? { ingest: config.target.ingest } : {}),
  };
}
