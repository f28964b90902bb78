/** Roboflow's ingest error types, turned into messages a user can act on. */

export const UNSAFE_URL_DETECTED = 'unsafe-url-detected';

/**
 * `unsafe-url-detected` ("Untrusted domain found: https://host/…") names the host Roboflow would
 * not download from; only the host is kept, since a signed URL's query is a credential.
 */
export function describeIngestError(type: string, reason: string): string {
  if (type !== UNSAFE_URL_DETECTED) return `${type}: ${reason}`;
  const host = hostIn(reason);
  const where = host ? `host ${host}` : 'a host it did not name';
  return (
    `${UNSAFE_URL_DETECTED}: Roboflow refused to download from ${where}, which it does not trust. It fetches ` +
    `signed URLs only from storage hosts it trusts (e.g. Amazon S3 or Google Cloud Storage endpoints): move the ` +
    `objects to such a bucket, or ask Roboflow to trust ${host ?? 'the host'}`
  );
}

/** The host of the first http(s) URL in a text, if any. */
function hostIn(text: string): string | undefined {
  for (const match of text.matchAll(/https?:\/\/[^\s"'<>]+/g)) {
    if (URL.canParse(match[0])) return new URL(match[0]).host;
  }
  return undefined;
}

/**
 * A shard's error detail, from whatever its `statusMetadata` holds (the real API documents none):
 * an `unsafe-url-detected` mention becomes the message above.
 */
export function describeShardError(statusName: string, statusType: string, statusMetadata: unknown): string {
  const text = statusMetadata === undefined || statusMetadata === null ? '' : JSON.stringify(statusMetadata);
  if (text.includes(UNSAFE_URL_DETECTED)) return describeIngestError(UNSAFE_URL_DETECTED, text);
  return `${statusName} (${statusType})`;
}
