import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { INLINE_MEMBER_BYTES, isArchive, unpackArchive } from '../../shared/pipeline/archive';
import { ArchiveLimitError, CorruptArchiveError, FinalCopyError, RepeatedMemberError, UnsafeArchiveError } from '../../shared/pipeline/copy-errors';
import { DEFAULT_EXPORT_LIMITS, type ExportLimits } from '../../shared/pipeline/export-limits';

async function tarOf(entries: Array<{ name: string; body?: string; type?: 'file' | 'directory' | 'symlink'; linkname?: string }>) {
  const p = pack();
  for (const e of entries) {
    if (e.type === 'directory') p.entry({ name: e.name, type: 'directory' });
    else if (e.type === 'symlink') p.entry({ name: e.name, type: 'symlink', linkname: e.linkname });
    else p.entry({ name: e.name }, e.body ?? '');
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of p) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

describe('unpackArchive', () => {
  it('streams every regular file of a .tar.gz with its size', async () => {
    const tar = await tarOf([{ name: 'dir', type: 'directory' }, { name: 'dir/a.json', body: '{"a":1}' }, { name: 'b.json', body: 'bee' }]);
    const seen: Array<[string, number, string]> = [];
    const count = await unpackArchive('x.tar.gz', Readable.from([gzipSync(tar)]), async (m) => {
      seen.push([m.path, m.size, await text(m.stream)]);
    });
    expect(count).toBe(2);
    expect(seen).toEqual([
      ['dir/a.json', 7, '{"a":1}'],
      ['b.json', 3, 'bee'],
    ]);
  });

  it('reads plain .tar too', async () => {
    const tar = await tarOf([{ name: 'only.txt', body: 'hello' }]);
    const names: string[] = [];
    await unpackArchive('x.tar', Readable.from([tar]), async (m) => {
      names.push(m.path);
      m.stream.resume();
    });
    expect(names).toEqual(['only.txt']);
  });

  it.each([['../escape.json'], ['/abs.json'], ['a/../../escape.json']])('rejects a member named %s before handing it on', async (bad) => {
    const tar = await tarOf([{ name: 'ok.json', body: '1' }, { name: bad, body: 'evil' }, { name: 'after.json', body: '2' }]);
    const names: string[] = [];
    const run = unpackArchive('x.tar.gz', Readable.from([gzipSync(tar)]), async (m) => {
      names.push(m.path);
      m.stream.resume();
    });
    await expect(run).rejects.toBeInstanceOf(UnsafeArchiveError);
    expect(names).toEqual(['ok.json']);
  });

  it('rejects links', async () => {
    const tar = await tarOf([{ name: 'link', type: 'symlink', linkname: '/etc/passwd' }]);
    await expect(unpackArchive('x.tar', Readable.from([tar]), async () => {})).rejects.toBeInstanceOf(UnsafeArchiveError);
  });

  it('fails on a corrupt archive with a final error', async () => {
    await expect(unpackArchive('x.tar.gz', Readable.from([Buffer.from('not gzip at all')]), async () => {})).rejects.toBeInstanceOf(CorruptArchiveError);
  });

  it('fails on a truncated archive with a final error, after handing on the members before the cut', async () => {
    const gz = gzipSync(await tarOf(Array.from({ length: 50 }, (_, i) => ({ name: `m${i}.txt`, body: `${i}`.repeat(700) }))));
    const names: string[] = [];
    const run = unpackArchive('x.tar.gz', Readable.from([gz.subarray(0, gz.length >> 1)]), async (m) => {
      names.push(m.path);
      m.stream.resume();
    });
    await expect(run).rejects.toThrow(/x.tar.gz is corrupt or truncated/);
    await expect(run).rejects.toBeInstanceOf(FinalCopyError);
    expect(names.length).toBeGreaterThan(0);
  });

  it('passes on an error of the download itself as it is (it may be transient)', async () => {
    const source = new PassThrough();
    const gz = gzipSync(await tarOf([{ name: 'a.json', body: 'x'.repeat(5000) }]));
    source.write(gz.subarray(0, 100));
    const dropped = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    setTimeout(() => source.destroy(dropped), 20);
    const run = unpackArchive('x.tar.gz', source, async (m) => void m.stream.resume());
    await expect(run).rejects.toBe(dropped);
  });

  const limited = (overrides: Partial<ExportLimits>) => ({ ...DEFAULT_EXPORT_LIMITS, ...overrides });

  it('refuses more members than allowed, before handing on the one over the cap', async () => {
    const tar = await tarOf([{ name: 'd', type: 'directory' }, { name: 'd/a', body: '1' }, { name: 'd/b', body: '2' }]);
    const names: string[] = [];
    const run = unpackArchive('x.tar', Readable.from([tar]), async (m) => void names.push(m.path), limited({ maxMembers: 2 }));
    await expect(run).rejects.toThrow(new ArchiveLimitError('x.tar has more than 2 members'));
    expect(names).toEqual(['d/a']);
  });

  it('refuses a member that takes the archive over its unpacked-bytes cap, before reading it', async () => {
    const tar = await tarOf([{ name: 'a', body: 'x'.repeat(600) }, { name: 'b', body: 'y'.repeat(600) }]);
    const names: string[] = [];
    const run = unpackArchive('x.tar', Readable.from([tar]), async (m) => void names.push(m.path), limited({ maxUnpackedBytes: 1000 }));
    await expect(run).rejects.toThrow(new ArchiveLimitError('x.tar unpacks to more than 1000 bytes'));
    expect(names).toEqual(['a']);
  });

  it('refuses an archive expanding beyond the ratio once past the first MiB, but not a small one', async () => {
    const zeros = gzipSync(await tarOf([{ name: 'zeros.json', body: '\0'.repeat(4 * 1024 * 1024) }]));
    const run = unpackArchive('z.tar.gz', Readable.from([zeros]), async (m) => void m.stream.resume(), limited({ maxExpansionRatio: 100 }));
    await expect(run).rejects.toThrow(/z.tar.gz expands more than 100 times/);
    // A tiny archive is mostly tar padding (expanding far more than 100 times) and is fine.
    const small = gzipSync(await tarOf([{ name: 'a.json', body: '{}' }]));
    expect(small.length * 100).toBeLessThan(10_240);
    await expect(unpackArchive('s.tar.gz', Readable.from([small]), async (m) => void m.stream.resume(), limited({ maxExpansionRatio: 100 }))).resolves.toBe(1);
  });

  it('hands members up to INLINE_MEMBER_BYTES on already read (no stream each), larger ones as streams', async () => {
    const big = 'b'.repeat(INLINE_MEMBER_BYTES + 1);
    const tar = await tarOf([{ name: 'small.json', body: '{"s":1}' }, { name: 'edge.bin', body: 'e'.repeat(INLINE_MEMBER_BYTES) }, { name: 'big.bin', body: big }]);
    const seen: Array<[string, boolean, number]> = [];
    await unpackArchive('x.tar.gz', Readable.from([gzipSync(tar)]), async (m) => {
      seen.push([m.path, m.bytes !== undefined, (m.bytes ?? Buffer.from(await text(m.stream))).length]);
    });
    expect(seen).toEqual([
      ['small.json', true, 7],
      ['edge.bin', true, INLINE_MEMBER_BYTES],
      ['big.bin', false, big.length],
    ]);
  });

  it('counts members read whole towards the expansion ratio too', async () => {
    const zeros = Array.from({ length: 40 }, (_, i) => ({ name: `z/${i}.json`, body: '\0'.repeat(INLINE_MEMBER_BYTES) }));
    const run = unpackArchive('z.tar.gz', Readable.from([gzipSync(await tarOf(zeros))]), async () => {}, limited({ maxExpansionRatio: 100 }));
    await expect(run).rejects.toThrow(/z.tar.gz expands more than 100 times/);
  });

  it('judges expansion by member bytes: the tar padding of many tiny members is no bomb', async () => {
    const tiny = Array.from({ length: 8000 }, (_, i) => ({ name: `r/${i}.json`, body: JSON.stringify({ item: i, label: 'car', confidence: (i % 97) / 97 }).padEnd(200) }));
    const tar = await tarOf(tiny);
    const gz = gzipSync(tar);
    // The tar stream expands more than 15 times (mostly zeros); its members far less.
    expect(tar.length / gz.length).toBeGreaterThan(15);
    const count = await unpackArchive('t.tar.gz', Readable.from([gz]), async (m) => void m.stream.resume(), limited({ maxExpansionRatio: 15 }));
    expect(count).toBe(8000);
  });

  it.each([
    [['x/y.json', 'x/./y.json']],
    [['x/y.json', 'x//y.json']],
    [['y.json', './y.json']],
    [['same.json', 'same.json']],
  ])('refuses members naming one path twice: %j', async (pair) => {
    const tar = await tarOf(pair.map((name) => ({ name, body: name })));
    const names: string[] = [];
    const run = unpackArchive('x.tar', Readable.from([tar]), async (m) => {
      names.push(m.path);
      m.stream.resume();
    });
    await expect(run).rejects.toBeInstanceOf(RepeatedMemberError);
    expect(names).toHaveLength(1);
  });

  it('recognises archive names', () => {
    expect([isArchive('a.tar.gz'), isArchive('a.TGZ'), isArchive('a.tar'), isArchive('a.jsonl')]).toEqual([true, true, true, false]);
  });
});
