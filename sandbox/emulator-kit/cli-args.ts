/** Command-line option helpers shared by the emulators' standalone `main.ts`. */

export function optionalInt(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new Error(`--${name} must be a non-negative integer`);
  return Number(raw);
}

/** Returns `parse(argv)`; on a bad command line prints the problem and `usage` to stderr and exits with 2. */
export function parseOrExit<T>(parse: (argv: string[]) => T, usage: string, argv = process.argv.slice(2)): T {
  try {
    return parse(argv);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${usage}\n`);
    process.exit(2);
  }
}
