import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLogger, formatText, type LogFormat } from '../../shared/log';
import { REDACTED, registerSecrets } from '../../shared/scrub-secrets';

function capture(format: LogFormat, minLevel: 'debug' | 'info' | 'warn' = 'info') {
  const lines: string[] = [];
  return { lines, log: createLogger(format, minLevel, (line) => lines.push(line)) };
}

/** Parses a text line back into its fields (the inverse of formatText for the values used here). */
function textFields(line: string): Record<string, unknown> {
  const match = /^(\d\d:\d\d:\d\d) (\w+)\s+(.*?)(?: {2}(.*))?$/.exec(line)!;
  const fields: Record<string, unknown> = { level: match[2]!.toLowerCase(), message: match[3] };
  for (const [, key, value] of (match[4] ?? '').matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) fields[key!] = parsedOrRaw(value!);
  return fields;
}

function parsedOrRaw(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

describe('log formats: text for people, JSON for machines, the same fields', () => {
  const fields = { runId: '20261204-101010-abcdef', key: 'cams/lot 1/0001.jpg', items: 18200, ok: true, nested: { a: [1, 2] } };

  it('renders one record as a JSON object and as a text line carrying the same level, message and fields', () => {
    const json = capture('json');
    const text = capture('text');
    json.log.warn('object skipped', fields);
    text.log.warn('object skipped', fields);
    const record = JSON.parse(json.lines[0]!);
    expect(record).toMatchObject({ level: 'warn', message: 'object skipped', ...fields });
    expect(Date.parse(record.time)).not.toBeNaN();
    expect(text.lines[0]).toBe(`${record.time.slice(11, 19)} WARN  object skipped  runId=20261204-101010-abcdef key="cams/lot 1/0001.jpg" items=18200 ok=true nested={"a":[1,2]}`);
    const { time: _, ...withoutTime } = record;
    expect(textFields(text.lines[0]!)).toEqual(withoutTime);
  });

  it('keeps the level threshold in both formats', () => {
    for (const format of ['json', 'text'] as const) {
      const { lines, log } = capture(format, 'warn');
      log.info('hidden');
      log.debug('hidden');
      log.error('shown');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('shown');
    }
  });

  it('scrubs secrets and signed URL queries from message and fields in both formats', () => {
    const secret = `sk_${randomBytes(16).toString('hex')}`;
    registerSecrets(secret);
    for (const format of ['json', 'text'] as const) {
      const { lines, log } = capture(format);
      log.error(`failed with ${secret}`, { error: `remote said ${secret}`, url: `https://h/x.jpg?X-Amz-Signature=abc&k=${secret}`, nested: [secret] });
      expect(lines[0]).not.toContain(secret);
      expect(lines[0]).not.toContain('X-Amz-Signature');
      expect(lines[0]).toContain(REDACTED);
    }
  });

  it('quotes text values that hold spaces, quotes or equals signs, and leaves a message without fields alone', () => {
    const line = formatText({ level: 'info', time: '2026-12-04T21:40:12.345Z', message: 'waiting', a: 'x=y', b: 'say "hi"', c: '', d: undefined });
    expect(line).toBe('21:40:12 INFO  waiting  a="x=y" b="say \\"hi\\"" c=""');
    expect(formatText({ level: 'error', time: '2026-12-04T21:40:12.345Z', message: 'done' })).toBe('21:40:12 ERROR done');
  });
});
