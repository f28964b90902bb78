import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

export interface MultipartFile {
  field: string;
  fileName: string;
  contentType?: string;
  body: Readable;
}

/**
 * A multipart/form-data body streamed part by part: the file's bytes flow from its source stream
 * without being buffered, whatever its size.
 */
export function multipartStream(fields: Record<string, string | undefined>, file: MultipartFile): { body: Readable; contentType: string } {
  const boundary = `----bucket-bridge-${randomBytes(12).toString('hex')}`;
  const quote = (s: string) => s.replace(/["\r\n]/g, '_');
  async function* parts() {
    for (const [name, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${quote(name)}"\r\n\r\n${value}\r\n`);
    }
    yield Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${quote(file.field)}"; filename="${quote(file.fileName)}"\r\n` +
        `Content-Type: ${file.contentType ?? 'application/octet-stream'}\r\n\r\n`,
    );
    yield* file.body;
    yield Buffer.from(`\r\n--${boundary}--\r\n`);
  }
  return { body: Readable.from(parts()), contentType: `multipart/form-data; boundary=${boundary}` };
}
