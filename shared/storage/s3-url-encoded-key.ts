/**
 * A key as S3 writes it URL-encoded (listings answered with `EncodingType: url`, S3 Inventory CSVs):
 * percent-encoded UTF-8, a space possibly as `+` (a literal `+` comes as `%2B`), as botocore decodes it.
 */
export function decodeS3UrlEncodedKey(key: string): string {
  return decodeURIComponent(key.replaceAll('+', ' '));
}
