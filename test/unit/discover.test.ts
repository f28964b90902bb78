import { describe, expect, it } from 'vitest';
import { discover, type DiscoveredPage } from '../../shared/pipeline/discover';
import type { ListPage, StoredObject } from '../../shared/storage/port';

async function* pagesOf(...pages: StoredObject[][]): AsyncGenerator<ListPage> {
  for (let i = 0; i < pages.length; i++) yield { objects: pages[i]!, nextToken: i < pages.length - 1 ? `t${i + 1}` : undefined };
}

const obj = (key: string, size = 10, etag = `e-${key}`): StoredObject => ({ key, size, etag });

async function all(iterable: AsyncIterable<DiscoveredPage>) {
  const out: DiscoveredPage[] = [];
  for await (const page of iterable) out.push(page);
  return out;
}

describe('discover', () => {
  it('sorts each object into accepted or skipped with a reason, page by page, keeping the tokens', async () => {
    const pages = await all(
      discover(pagesOf([obj('in/a.jpg'), obj('in/b.txt'), obj('in/big.png', 30)], [obj('in/empty.jpg', 0), obj('in/dir/'), obj('bucket-bridge/manifests/x.jpg'), obj('in/c.JPEG')]), {
        media: 'images',
        excludePrefixes: ['bucket-bridge/manifests/', ''],
        maxBytes: 20,
      }),
    );
    expect(pages.map((p) => p.nextToken)).toEqual(['t1', undefined]);
    const verdicts = pages.flatMap((p) => p.items.map((i) => ('accepted' in i ? [i.accepted.key, 'accepted'] : [i.skipped.key, i.reason])));
    expect(verdicts).toEqual([
      ['in/a.jpg', 'accepted'],
      ['in/b.txt', 'not-media'],
      ['in/big.png', 'too-large'],
      ['in/empty.jpg', 'empty'],
      ['in/dir/', 'empty'],
      ['bucket-bridge/manifests/x.jpg', 'bridge-output'],
      ['in/c.JPEG', 'accepted'],
    ]);
  });

  it('applies no size limit when the target has none, and asks the ledger only about candidates', async () => {
    const asked: string[][] = [];
    const pages = await all(
      discover(pagesOf([obj('d/a.pdf', 10 ** 9), obj('d/b.pdf'), obj('d/c.raw')]), {
        media: 'documents',
        excludePrefixes: [],
        alreadySubmitted: async (objects) => {
          asked.push(objects.map((o) => o.key));
          return new Set(['d/b.pdf']);
        },
      }),
    );
    expect(asked).toEqual([['d/a.pdf', 'd/b.pdf']]);
    expect(pages[0]!.items.map((i) => ('accepted' in i ? 'accepted' : i.reason))).toEqual(['accepted', 'already-submitted', 'not-media']);
  });

  it('lets a listing error through after the pages before it', async () => {
    async function* failing(): AsyncGenerator<ListPage> {
      yield { objects: [obj('x/a.jpg')], nextToken: 't1' };
      throw new Error('listing broke');
    }
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const page of discover(failing(), { media: 'images', excludePrefixes: [] })) seen.push(...page.items.map((i) => ('accepted' in i ? i.accepted.key : i.skipped.key)));
      })(),
    ).rejects.toThrow('listing broke');
    expect(seen).toEqual(['x/a.jpg']);
  });
});
