/** Standalone process lifecycle: announce the running emulator on stdout, then close it on SIGINT/SIGTERM. */

/** Prints `banner` as one JSON line (what a parent process waits for); exits 0 once closed after a signal. */
export function serveUntilSignal(emulator: { close(): Promise<void> }, banner: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(banner)}\n`);
  const shutdown = () => {
    void emulator.close().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
