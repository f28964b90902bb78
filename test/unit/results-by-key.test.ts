import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runOptions } from '../../cli/options';
import { InputError } from '../../shared/errors';
import { parseBridgeConfig } from '../../shared/config/bridge-config';
import { csvRecords, jsonlRows } from '../../shared/results/aggregated-rows';
import { mirrorKey } from '../../shared/results/mirror-key';
import { MAX_PARTITIONS, NAMES_PER_PARTITION, partitionCount, ROW_BYTES_PER_PARTITION } from '../../shared/results/results-by-key';
import { specForSource } from '../../shared/run/source-spec';

const FOLDER = 'out/20261204-000000-abcdef/';

describe('mirrorKey: a source key as a path under by-key/', () => {
  it.each([
    ['cams/lot1/0001.jpg', 'by-key/cams/lot1/0001.jpg.json'],
    ['../../etc/passwd', 'by-key/%2E%2E/%2E%2E/etc/passwd.json'],
    ['/absolute.jpg', 'by-key/%2F/absolute.jpg.json'],
    ['a//b.jpg', 'by-key/a/%2F/b.jpg.json'],
    ['./x.jpg', 'by-key/%2E/x.jpg.json'],
    ['dir/', 'by-key/dir/%2F.json'],
    ['..', 'by-key/%2E%2E.json'],
    ['bell\u0007\r\n\u007f.jpg', 'by-key/bell%07%0D%0A%7F.jpg.json'],
    ['back\\..\\slash.jpg', 'by-key/back%5C..%5Cslash.jpg.json'],
    ['100%/x.jpg', 'by-key/100%25/x.jpg.json'],
    ['ünï cödé/photo 1.png', 'by-key/ünï cödé/photo 1.png.json'],
  ])('%j → %s', (key, expected) => {
    expect(mirrorKey(FOLDER, key, '.json')).toBe(expected);
  });

  it('keeps distinct keys apart, escapes included', () => {
    const keys = ['%2E%2E/x', '../x', '%2F/x', '/x', '//x', 'x', '%252E/x', '%2E/x', './x', 'a\u0001', 'a%01'];
    const mirrored = keys.map((k) => mirrorKey(FOLDER, k, '.json'));
    expect(new Set(mirrored).size).toBe(keys.length);
  });

  it('hashes a key whose mirrored path would pass the 1,024-byte key limit', () => {
    const long = 'ü'.repeat(600);
    const mirrored = mirrorKey(FOLDER, long, '.md');
    expect(mirrored).toMatch(/^by-key\/%long\/[0-9a-f]{64}\.md$/);
    expect(mirrorKey(FOLDER, `${long}x`, '.md')).not.toBe(mirrored);
  });
});

describe('aggregated prediction rows', () => {
  it('reads CSV records with quoted commas, quotes and line breaks, and CRLF endings', async () => {
    const csv = 'name,predictions\r\na.jpg,"[{""class"":""car""}, 1]"\r\n"b,\nc.jpg",[]\r\n\r\nlast.jpg,';
    const records = [];
    for await (const r of csvRecords(Readable.from([csv.slice(0, 17), csv.slice(17)]))) records.push(r);
    expect(records.map((r) => r.fields)).toEqual([
      ['name', 'predictions'],
      ['a.jpg', '[{"class":"car"}, 1]'],
      ['b,\nc.jpg', '[]'],
      ['last.jpg', ''],
    ]);
    expect(records[2]!.raw).toBe('"b,\nc.jpg",[]');
  });

  it('takes the name of a JSONL row from the first name column it has, and skips lines that are not objects', async () => {
    const jsonl = '{"name":"a.jpg","p":1}\n{"image":"b.jpg"}\nnot json\n[1]\n{"other":2}\n';
    const rows = [];
    for await (const r of jsonlRows(Readable.from([jsonl]))) rows.push(r.name);
    expect(rows).toEqual(['a.jpg', 'b.jpg', undefined]);
  });
});

describe('partitions of the join', () => {
  it('holds at most NAMES_PER_PARTITION names (and, when rows are grouped, ROW_BYTES_PER_PARTITION) each', () => {
    expect(partitionCount(0, 0)).toBe(1);
    expect(partitionCount(NAMES_PER_PARTITION, 0)).toBe(1);
    expect(partitionCount(1_000_000, 0)).toBe(20);
    expect(partitionCount(10, 3 * ROW_BYTES_PER_PARTITION)).toBe(3);
    expect(partitionCount(1e12, 0)).toBe(MAX_PARTITIONS);
  });
});

describe('choosing the layout', () => {
  const common = ['--source', 's3://photos/in/', '--dest', 's3://results/out/', '--workspace', 'w', '--workflow', 'f'];

  it('--results-layout takes parts (default) or mirror, and names itself when wrong', () => {
    expect(runOptions(common).spec.resultsLayout).toBe('parts');
    expect(runOptions([...common, '--results-layout', 'mirror']).spec.resultsLayout).toBe('mirror');
    expect(() => runOptions([...common, '--results-layout', 'flat'])).toThrow(InputError);
    expect(() => runOptions([...common, '--results-layout', 'flat'])).toThrow(/--results-layout/);
  });

  it('deployed: resultsLayout in the configuration reaches every run of a source', () => {
    const base = { sources: [{ id: 's1', bucket: 'photos', prefix: 'in/', schedule: 'rate(1 hour)' }], destination: { bucket: 'results', prefix: 'out/' }, target: { name: 'roboflow', workspace: 'w', workflowId: 'f' } };
    expect(parseBridgeConfig(base).resultsLayout).toBe('parts');
    const config = parseBridgeConfig({ ...base, resultsLayout: 'mirror' });
    expect(specForSource(config, config.sources[0]!).resultsLayout).toBe('mirror');
    expect(() => parseBridgeConfig({ ...base, resultsLayout: 'flat' })).toThrow(/resultsLayout/);
  });
});
