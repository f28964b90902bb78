import type { ProgressListener, ProgressStage } from '../shared/progress';

/**
 * Counters for listing, signing and copying, redrawn in place on a terminal and printed as a
 * line every few seconds otherwise (CI logs).
 */
export function progressView(out: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean }, enabled: boolean) {
  const totals: Record<ProgressStage, number> = { listed: 0, signed: 0, 'exported-files': 0, 'exported-bytes': 0 };
  const tty = Boolean(out.isTTY);
  let lastDraw = 0;
  const line = () =>
    `listed ${totals.listed} objects | signed ${totals.signed} | copied ${totals['exported-files']} files, ${formatBytes(totals['exported-bytes'])}`;
  const draw = (force = false) => {
    const now = Date.now();
    if (!enabled || (!force && now - lastDraw < (tty ? 100 : 5000))) return;
    lastDraw = now;
    out.write(tty ? `\r${line()}\u001b[K` : `${line()}\n`);
  };
  const listener: ProgressListener = (stage, increment) => {
    totals[stage] += increment;
    draw();
  };
  let finished = false;
  return {
    listener,
    finish: () => {
      if (finished) return;
      finished = true;
      draw(true);
      if (enabled && tty) out.write('\n');
    },
  };
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
