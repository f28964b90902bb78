import { z } from 'zod';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** What one result file may cost: archive size, members and expansion, and time per copy. */
export const ExportLimits = z.object({
  /** Bytes an archive's members may add up to (declared sizes: a member over the cap is refused before it is read). */
  maxUnpackedBytes: z.number().int().positive(),
  /** Entries an archive may hold (directories included). */
  maxMembers: z.number().int().positive(),
  /** Member bytes unpacked per compressed byte read of a .tar.gz, checked once 1 MiB has been unpacked. */
  maxExpansionRatio: z.number().min(1),
  /** Wall-clock time one result file may take to copy, retries included. */
  copyTimeoutSeconds: z.number().int().positive(),
});
export type ExportLimits = z.infer<typeof ExportLimits>;

/**
 * 10 GiB and 100,000 members bound what one archive can cost in storage and in requests (the
 * members of a rejected archive are removed again, which must fit in the export function's
 * reserve); result archives of JSON or CSV unpack to 5–20 times their size, a zero-filled bomb to
 * about 1,000 times; half an hour copies gigabytes even over a slow link, and a stalled download
 * cannot hold a run for longer.
 */
export const DEFAULT_EXPORT_LIMITS: ExportLimits = {
  maxUnpackedBytes: 10 * GiB,
  maxMembers: 100_000,
  maxExpansionRatio: 100,
  copyTimeoutSeconds: 1800,
};

/** The ratio is not judged on the first bytes: a tiny archive of mostly tar padding expands far. */
export const RATIO_CHECK_AFTER_BYTES = MiB;

/** The defaults with `overrides` over them (an override left undefined keeps its default). */
export function exportLimits(overrides: Partial<ExportLimits> = {}): ExportLimits {
  const set = Object.entries(overrides).filter(([, value]) => value !== undefined);
  return { ...DEFAULT_EXPORT_LIMITS, ...Object.fromEntries(set) };
}

/** `10 GiB`, `512 MiB` or `1000 bytes`: limits read as they were set. */
export function byteCount(bytes: number): string {
  if (bytes >= GiB && bytes % GiB === 0) return `${bytes / GiB} GiB`;
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  return `${bytes} bytes`;
}
