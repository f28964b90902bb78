/**
 * Streaming multipart/form-data parser. Bytes are handed over as they arrive; the parser only holds
 * back a delimiter-sized tail (plus one part's header block), so a part of any size passes through in
 * bounded memory. Data buffers passed to `onPartData` are views into parser memory: copy to keep them.
 */

export interface PartInfo {
  /** Form field name from Content-Disposition. */
  name: string;
  /** Present for file parts. */
  filename?: string;
  contentType?: string;
}

export interface PartHandlers {
  onPartStart(part: PartInfo): void;
  onPartData(data: Buffer): void;
  onPartEnd(): void;
}

export class MultipartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MultipartError';
  }
}

const MAX_HEADER_BLOCK_BYTES = 16 * 1024;
const MAX_PADDING_BYTES = 256;
const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

type State = 'preamble' | 'after-delimiter' | 'headers' | 'body' | 'done';

export class MultipartParser {
  private state: State = 'preamble';
  /** Bytes not yet processed. Starts with CRLF so the first boundary matches the general delimiter. */
  private pending: Buffer = Buffer.from(CRLF);
  private readonly delimiter: Buffer;

  constructor(
    boundary: string,
    private readonly handlers: PartHandlers,
  ) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  }

  write(chunk: Buffer): void {
    if (this.state === 'done') return; // epilogue is ignored
    this.pending = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.step()) {
      // each step consumes input or changes state; it returns false when it needs more bytes
    }
  }

  /** Call once the body has ended: throws when the closing delimiter never came. */
  end(): void {
    if (this.state !== 'done') throw new MultipartError('multipart body ended before its closing boundary');
  }

  private step(): boolean {
    switch (this.state) {
      case 'preamble': {
        const at = this.pending.indexOf(this.delimiter);
        if (at < 0) {
          this.keepTail();
          return false;
        }
        this.pending = this.pending.subarray(at + this.delimiter.length);
        this.state = 'after-delimiter';
        return true;
      }
      case 'after-delimiter': {
        if (this.pending.length < 2) return false;
        if (this.pending[0] === 0x2d && this.pending[1] === 0x2d) {
          this.state = 'done';
          this.pending = Buffer.alloc(0);
          return false;
        }
        const eol = this.pending.indexOf(CRLF);
        if (eol < 0) {
          if (this.pending.length > MAX_PADDING_BYTES) throw new MultipartError('malformed boundary line');
          return false;
        }
        if (!/^[ \t]*$/.test(this.pending.subarray(0, eol).toString('latin1'))) throw new MultipartError('malformed boundary line');
        this.pending = this.pending.subarray(eol + 2);
        this.state = 'headers';
        return true;
      }
      case 'headers': {
        if (this.pending.length >= 2 && this.pending[0] === 0x0d && this.pending[1] === 0x0a) {
          throw new MultipartError('part without Content-Disposition header');
        }
        const end = this.pending.indexOf(HEADER_END);
        if (end < 0) {
          if (this.pending.length > MAX_HEADER_BLOCK_BYTES) throw new MultipartError('part headers too large');
          return false;
        }
        const info = parsePartHeaders(this.pending.subarray(0, end).toString('utf8'));
        this.pending = this.pending.subarray(end + HEADER_END.length);
        this.state = 'body';
        this.handlers.onPartStart(info);
        return true;
      }
      case 'body': {
        const at = this.pending.indexOf(this.delimiter);
        if (at < 0) {
          // Everything except a possible delimiter prefix at the end is part content.
          const safe = this.pending.length - (this.delimiter.length - 1);
          if (safe > 0) {
            this.handlers.onPartData(this.pending.subarray(0, safe));
            this.pending = Buffer.from(this.pending.subarray(safe));
          }
          return false;
        }
        if (at > 0) this.handlers.onPartData(this.pending.subarray(0, at));
        this.pending = this.pending.subarray(at + this.delimiter.length);
        this.state = 'after-delimiter';
        this.handlers.onPartEnd();
        return true;
      }
      case 'done':
        return false;
    }
  }

  private keepTail(): void {
    const keep = this.delimiter.length - 1;
    if (this.pending.length > keep) this.pending = Buffer.from(this.pending.subarray(this.pending.length - keep));
  }
}

/** The boundary of a `multipart/form-data` Content-Type, or undefined for any other type. */
export function boundaryOf(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  const [type, ...rest] = contentType.split(';');
  if (type!.trim().toLowerCase() !== 'multipart/form-data') return undefined;
  const boundary = headerParams(rest.join(';')).get('boundary');
  return boundary && boundary.length <= 70 ? boundary : undefined;
}

function parsePartHeaders(block: string): PartInfo {
  let disposition: string | undefined;
  let contentType: string | undefined;
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MultipartError('malformed part header');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-disposition') disposition = value;
    else if (name === 'content-type') contentType = value;
  }
  if (!disposition) throw new MultipartError('part without Content-Disposition header');
  const [kind, ...rest] = disposition.split(';');
  if (kind!.trim().toLowerCase() !== 'form-data') throw new MultipartError('part disposition is not form-data');
  const params = headerParams(rest.join(';'));
  const name = params.get('name');
  if (name === undefined || name === '') throw new MultipartError('part without a field name');
  const filename = params.get('filename');
  return { name, ...(filename !== undefined ? { filename } : {}), ...(contentType ? { contentType } : {}) };
}

/** `; a=1; b="x \"y\""` → Map (lower-cased keys, quoted values unescaped). */
function headerParams(text: string): Map<string, string> {
  const params = new Map<string, string>();
  const pattern = /;?\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  for (const m of text.matchAll(pattern)) {
    const raw = m[2]!.trim();
    const value = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    params.set(m[1]!.toLowerCase(), value);
  }
  return params;
}
