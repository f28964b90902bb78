/**
 * Reads an uploaded `.tar` as its bytes arrive (tar-stream), keeping per image only what ContentSink keeps,
 * so an archive is never held whole. `notification_config.json` at the top level is the official client's
 * way to ask for webhooks: `{"ingestId", "notificationsURL"}` (the emulator also takes `notificationCategories`).
 */
import { extract as tarExtract, type ExtractEvents } from 'tar-stream';
import { z } from 'zod';
import { httpUrl } from '../emulator-kit/schemas';
import { ContentSink } from './content-sink';
import type { FailedFile } from './ingest';
import { NotificationCategory } from './schemas';
import type { ReadArchive, StoredBytes } from './upload-staging';

type Entry = ExtractEvents['entry'][1];

const NOTIFICATION_CONFIG = 'notification_config.json';
const MAX_CONFIG_BYTES = 64 * 1024;

const NotificationConfig = z.object({
  ingestId: z.string().min(1).max(256).optional(),
  notificationsURL: httpUrl,
  notificationCategories: z.array(NotificationCategory).min(1).optional(),
});

const MIME_TYPES: Record<string, string> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', bmp: 'image/bmp', webp: 'image/webp' };

export class ArchiveReader {
  private readonly extract = tarExtract();
  private readonly read: Promise<void>;
  private readonly archive: ReadArchive = { images: [] };
  private broken?: string;

  constructor(private readonly limits: { maxImages: number; maxImageBytes: number }) {
    this.read = this.readEntries().catch((err: unknown) => {
      this.broken = err instanceof Error ? err.message : String(err);
    });
  }

  /** Feeds the next bytes of the upload, waiting while the parser is behind. */
  async write(chunk: Buffer): Promise<void> {
    if (this.broken !== undefined || this.extract.destroyed) return;
    if (this.extract.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.extract.off('drain', done);
        this.extract.off('close', done);
        resolve();
      };
      this.extract.on('drain', done);
      this.extract.on('close', done);
    });
  }

  async end(): Promise<ReadArchive> {
    if (!this.extract.destroyed) this.extract.end(Buffer.alloc(0));
    await this.read;
    const count = this.archive.images.length;
    if (this.broken !== undefined) this.archive.problem = { type: 'invalid-archive', reason: `not a readable tar archive: ${this.broken}` };
    else if (count > this.limits.maxImages) {
      this.archive.problem = { type: 'images-limit-exceeded', reason: `archive holds ${count} images; at most ${this.limits.maxImages} per archive` };
    }
    if (this.archive.problem) this.archive.images = [];
    return this.archive;
  }

  private async readEntries(): Promise<void> {
    for await (const entry of this.extract) {
      const name = entry.header.name.replace(/^(\.\/)+/, '');
      const isFile = entry.header.type === 'file' || entry.header.type === 'contiguous-file';
      if (!isFile) await drain(entry);
      else if (name === NOTIFICATION_CONFIG) this.archive.notifications = await readConfig(entry);
      else this.archive.images.push(await this.readImage(name, entry));
    }
  }

  private async readImage(name: string, entry: Entry): Promise<ReadArchive['images'][number]> {
    const tooMany = this.archive.images.length >= this.limits.maxImages;
    if (tooMany || (entry.header.size ?? 0) > this.limits.maxImageBytes) {
      await drain(entry);
      const failure: FailedFile = { type: 'file-size-limit-exceeded', file_name: name, reason: `Max size of single image is ${this.limits.maxImageBytes}B.` };
      return tooMany ? { name } : { name, failure };
    }
    const sink = new ContentSink();
    for await (const chunk of entry as AsyncIterable<Buffer>) sink.write(chunk);
    const stored: StoredBytes = sink.finish(MIME_TYPES[name.split('.').pop()!.toLowerCase()] ?? 'application/octet-stream');
    return { name, stored };
  }
}

async function drain(entry: Entry): Promise<void> {
  for await (const _ of entry);
}

/** A malformed config asks for nothing (the archive's images are still ingested). */
async function readConfig(entry: Entry): Promise<ReadArchive['notifications']> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of entry as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_CONFIG_BYTES) chunks.push(chunk);
  }
  if (size > MAX_CONFIG_BYTES) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
  const config = NotificationConfig.safeParse(parsed);
  if (!config.success) return undefined;
  return { ...config.data, notificationCategories: config.data.notificationCategories ?? ['ingest-status'] };
}
