import { randomBytes } from 'node:crypto';

/** `20261123-154012` from a date: the sortable time part of run ids. */
export function stamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** `20261123-154012-k3x9qa`: sortable, readable, and valid inside Roboflow batch ids. */
export function newRunId(now = new Date()): string {
  const suffix = BigInt(`0x${randomBytes(5).toString('hex')}`).toString(36).padStart(6, '0').slice(-6);
  return `${stamp(now)}-${suffix}`;
}
