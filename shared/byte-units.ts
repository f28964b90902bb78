const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** `bytes` in the largest binary unit it fills (1536 → 1.5 KiB); how to print it is the caller's. */
export function scaleBytes(bytes: number): { value: number; unit: (typeof UNITS)[number] } {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return { value, unit: UNITS[unit]! };
}
