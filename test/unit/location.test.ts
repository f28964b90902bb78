import { describe, expect, it } from 'vitest';
import { InputError } from '../../shared/errors';
import { parseBucketUrl } from '../../shared/location';

describe('parseBucketUrl', () => {
  it('parses bucket and prefix, normalising the prefix to a folder', () => {
    expect(parseBucketUrl('--source', 's3://media/incoming')).toEqual({ scheme: 's3', bucket: 'media', prefix: 'incoming/' });
    expect(parseBucketUrl('--source', 's3://media/incoming/')).toEqual({ scheme: 's3', bucket: 'media', prefix: 'incoming/' });
    expect(parseBucketUrl('--source', 's3://media')).toEqual({ scheme: 's3', bucket: 'media', prefix: '' });
    expect(parseBucketUrl('--dest', 'gs://results-1/a/b')).toEqual({ scheme: 'gs', bucket: 'results-1', prefix: 'a/b/' });
  });

  it.each([
    ['http://media/x', /--source: expected a bucket URL/],
    ['s3:/media', /--source: expected a bucket URL/],
    ['s3://Media/x', /--source: expected a valid bucket name/],
    ['s3://a/x', /--source: expected a valid bucket name/],
    ['s3://my_bucket/x', /--source: expected a valid bucket name/],
  ])('rejects %s naming the field', (url, message) => {
    expect(() => parseBucketUrl('--source', url)).toThrow(InputError);
    expect(() => parseBucketUrl('--source', url)).toThrow(message);
  });
});
