import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { isArchive, unpackArchive, UnsafeArchiveError } from '../../shared/pipeline/archive';

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

  it('fails on a corrupt archive', async () => {
    await expect(unpackArchive('x.tar.gz', Readable.from([Buffer.from('not gzip at all')]), async () => {})).rejects.toThrow();
  });

  it('recognises archive names', () => {
    expect([isArchive('a.tar.gz'), isArchive('a.TGZ'), isArchive('a.tar'), isArchive('a.jsonl')]).toEqual([true, true, true, false]);
  });
});
