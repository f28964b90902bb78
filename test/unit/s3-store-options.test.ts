import {
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createS3Client, discoverBucketRegion, s3SettingsFromEnv } from '../../shared/storage/s3-client';
import { S3Store } from '../../shared/storage/s3-store';
import { DeferredStore, StoreFactory } from '../../shared/storage/store-factory';

const s3Mock = mockClient(S3Client);
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };

beforeEach(() => s3Mock.reset());
afterEach(() => s3Mock.reset());

describe('requester-pays S3 buckets', () => {
  const client = () => createS3Client({ region: 'us-east-1', credentials });

  function stub() {
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'a.jpg', Size: 3, ETag: '"e"' }], IsTruncated: false });
    s3Mock.on(GetObjectCommand).resolves({ Body: Readable.from([Buffer.from('abc')]) as never });
    s3Mock.on(HeadObjectCommand).resolves({ ContentLength: 3 });
    s3Mock.on(PutObjectCommand).resolves({ ETag: '"e"' });
  }

  it('sends RequestPayer=requester on list, get, head and put', async () => {
    stub();
    const store = new S3Store(client(), 'paid-bucket', { requestPayer: 'requester' });
    expect(store.requestPayer).toBe('requester');
    for await (const page of store.list('p/', { pageSize: 5 })) expect(page.objects).toHaveLength(1);
    await store.read('a.jpg');
    expect(await store.sizeOf('a.jpg')).toBe(3);
    expect(await store.write('a.jpg', 'abc')).toEqual({ bytes: 3 });

    expect(s3Mock.commandCalls(ListObjectsV2Command)[0]!.args[0].input).toMatchObject({ Bucket: 'paid-bucket', Prefix: 'p/', MaxKeys: 5, RequestPayer: 'requester' });
    expect(s3Mock.commandCalls(GetObjectCommand)[0]!.args[0].input).toMatchObject({ Key: 'a.jpg', RequestPayer: 'requester' });
    for (const call of s3Mock.commandCalls(HeadObjectCommand)) expect(call.args[0].input).toMatchObject({ RequestPayer: 'requester' });
    expect(s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({ Key: 'a.jpg', RequestPayer: 'requester' });
  });

  it('signs x-amz-request-payer=requester into presigned GET URLs (and only for requester-pays buckets)', async () => {
    const paid = new URL(await new S3Store(client(), 'paid-bucket', { requestPayer: 'requester' }).presignGet('a b+.jpg', { expiresInSeconds: 600 }));
    expect(paid.searchParams.get('x-amz-request-payer')).toBe('requester');
    expect(paid.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    const plain = new URL(await new S3Store(client(), 'plain-bucket').presignGet('a b+.jpg', { expiresInSeconds: 600 }));
    expect(plain.searchParams.has('x-amz-request-payer')).toBe(false);
    expect(paid.searchParams.get('X-Amz-Signature')).not.toBe(plain.searchParams.get('X-Amz-Signature'));
  });

  it('sends no RequestPayer for ordinary buckets', async () => {
    stub();
    const store = new S3Store(client(), 'plain-bucket');
    for await (const page of store.list('p/')) void page;
    await store.read('a.jpg');
    await store.sizeOf('a.jpg');
    const inputs = [
      s3Mock.commandCalls(ListObjectsV2Command)[0]!.args[0].input,
      s3Mock.commandCalls(GetObjectCommand)[0]!.args[0].input,
      s3Mock.commandCalls(HeadObjectCommand)[0]!.args[0].input,
    ];
    for (const input of inputs) expect(input.RequestPayer).toBeUndefined();
  });

  it('is set per location by the StoreFactory', () => {
    const factory = new StoreFactory({ s3: { region: 'us-east-1', credentials }, discoverS3Regions: false });
    const paid = factory.storeFor({ scheme: 's3', bucket: 'paid-bucket', prefix: '' }, { requesterPays: true });
    const plain = factory.storeFor({ scheme: 's3', bucket: 'plain-bucket', prefix: '' });
    expect((paid as S3Store).requestPayer).toBe('requester');
    expect((plain as S3Store).requestPayer).toBeUndefined();
  });
});

describe('bucket regions', () => {
  const regionOf = async (store: unknown) => {
    const resolved = store instanceof DeferredStore ? await store.resolve() : store;
    return (resolved as unknown as { client: S3Client }).client.config.region();
  };
  const redirect = (region: string) =>
    Object.assign(new S3ServiceException({ name: 'PermanentRedirect', $fault: 'client', $metadata: { httpStatusCode: 301 } }), {
      $response: { statusCode: 301, headers: { 'x-amz-bucket-region': region } },
    });

  it('asks S3 once per bucket (HeadBucket) and signs with a client of that region', async () => {
    s3Mock.on(HeadBucketCommand, { Bucket: 'eu-bucket' }).resolves({ BucketRegion: 'eu-west-1' });
    const factory = new StoreFactory({ s3: { region: 'us-east-1', credentials } });
    const a = factory.storeFor({ scheme: 's3', bucket: 'eu-bucket', prefix: 'a/' });
    const b = factory.storeFor({ scheme: 's3', bucket: 'eu-bucket', prefix: 'b/' });
    expect(a).toBeInstanceOf(DeferredStore);
    expect(await regionOf(a)).toBe('eu-west-1');
    expect(await regionOf(b)).toBe('eu-west-1');
    expect(s3Mock.commandCalls(HeadBucketCommand)).toHaveLength(1);
    // One client per region, shared by the buckets in it.
    expect(factory.s3Client('eu-west-1')).toBe(factory.s3Client('eu-west-1'));
    factory.destroy();
  });

  it('reads x-amz-bucket-region from a redirect or a 403, and falls back to the default region when S3 does not say', async () => {
    s3Mock.on(HeadBucketCommand, { Bucket: 'moved' }).rejects(redirect('ap-southeast-2'));
    s3Mock.on(HeadBucketCommand, { Bucket: 'forbidden' }).rejects(
      Object.assign(new S3ServiceException({ name: 'Forbidden', $fault: 'client', $metadata: { httpStatusCode: 403 } }), {
        $response: { statusCode: 403, headers: { 'x-amz-bucket-region': 'eu-central-1' } },
      }),
    );
    s3Mock.on(HeadBucketCommand, { Bucket: 'silent' }).rejects(
      Object.assign(new S3ServiceException({ name: 'NotFound', $fault: 'client', $metadata: { httpStatusCode: 404 } }), {
        $response: { statusCode: 404, headers: {} },
      }),
    );
    const factory = new StoreFactory({ s3: { region: 'us-west-2', credentials } });
    expect(await factory.regionOf('moved')).toBe('ap-southeast-2');
    expect(await factory.regionOf('forbidden')).toBe('eu-central-1');
    expect(await factory.regionOf('silent')).toBe('us-west-2');
  });

  it('asks again after a network error (nothing cached)', async () => {
    s3Mock.on(HeadBucketCommand).rejectsOnce(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })).resolves({ BucketRegion: 'sa-east-1' });
    const client = createS3Client({ region: 'us-east-1', credentials });
    await expect(discoverBucketRegion(client, 'flaky')).rejects.toThrow('socket hang up');
    const factory = new StoreFactory({ s3: { region: 'us-east-1', credentials } });
    await expect(factory.regionOf('flaky2')).resolves.toBe('sa-east-1');
  });

  it('uses a configured region without asking, and never asks an S3-compatible endpoint', async () => {
    const factory = new StoreFactory({ s3: { region: 'us-east-1', credentials } });
    const given = factory.storeFor({ scheme: 's3', bucket: 'b-1', prefix: '' }, { region: 'eu-north-1' });
    expect(given).toBeInstanceOf(S3Store);
    expect(await regionOf(given)).toBe('eu-north-1');
    const r2 = new StoreFactory({ s3: { endpoint: 'https://account.r2.cloudflarestorage.com', region: 'auto', credentials } });
    const store = r2.storeFor({ scheme: 's3', bucket: 'media', prefix: '' });
    expect(store).toBeInstanceOf(S3Store);
    expect(await regionOf(store)).toBe('auto');
    expect(s3Mock.commandCalls(HeadBucketCommand)).toHaveLength(0);
  });
});

describe('S3-compatible client settings', () => {
  it('uses path-style addressing and checksums only when required with a custom endpoint', async () => {
    const settings = s3SettingsFromEnv({ AWS_ENDPOINT_URL_S3: 'https://s3.us-west-004.backblazeb2.com', AWS_REGION: 'us-west-004', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' });
    expect(settings).toMatchObject({ endpoint: 'https://s3.us-west-004.backblazeb2.com', region: 'us-west-004', forcePathStyle: true });
    const client = createS3Client(settings);
    expect(client.config.forcePathStyle).toBe(true);
    expect(await client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await client.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    expect(await client.config.region()).toBe('us-west-004');

    const aws = createS3Client(s3SettingsFromEnv({ AWS_REGION: 'eu-west-1' }));
    expect(await aws.config.requestChecksumCalculation()).toBe('WHEN_SUPPORTED');
    expect(aws.config.forcePathStyle).toBe(false);
    expect(s3SettingsFromEnv({ AWS_ENDPOINT_URL_S3: 'http://minio:9000', BUCKET_BRIDGE_S3_FORCE_PATH_STYLE: 'false' }).forcePathStyle).toBe(false);
    expect(s3SettingsFromEnv({ AWS_ENDPOINT_URL_S3: 'https://x.r2.cloudflarestorage.com', AWS_REGION: 'auto' }).region).toBe('auto');
  });
});
