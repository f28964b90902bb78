/** Fake but deterministic workflow results, and their JSONL / CSV aggregation. */
import { createHash } from 'node:crypto';

export interface Prediction {
  class: string;
  confidence: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ItemResult {
  name: string;
  predictions: Prediction[];
}

const CLASSES = ['car', 'person', 'bicycle', 'truck'];

/** Same item name (and content hash) always yields the same predictions. */
export function predictFor(name: string, contentHash = ''): ItemResult {
  const seed = createHash('sha256').update(`${name}\n${contentHash}`).digest();
  const count = seed[0]! % 4;
  const predictions = Array.from({ length: count }, (_, i): Prediction => {
    const byte = (k: number) => seed[(1 + i * 5 + k) % seed.length]!;
    return {
      class: CLASSES[byte(0) % CLASSES.length]!,
      confidence: Math.round((0.5 + byte(1) / 510) * 1000) / 1000,
      x: byte(2) * 2,
      y: byte(3) * 2,
      width: 10 + byte(4),
      height: 10 + byte(0),
    };
  });
  return { name, predictions };
}

export function toJsonl(results: readonly ItemResult[]): string {
  return results.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

export function toCsv(results: readonly ItemResult[]): string {
  const rows = results.map((r) => [r.name, JSON.stringify(r.predictions)].map(csvField).join(','));
  return ['name,predictions', ...rows].join('\n') + '\n';
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
