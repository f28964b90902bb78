import type { Storage } from '@google-cloud/storage';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { formatLocation, type BucketLocation } from '../location';
import type { GcsSettings } from './gcs-options';
import type { GcsStore } from './gcs-store';
import type { BlobSigner } from './gcs-v4-signer';
import type { ListOptions, ListPage, ObjectStore, PresignOptions, WriteBody, WriteOptions } from './port';
import { createS3Client, discoverBucketRegion, type S3ClientSettings } from './s3-client';
import { S3Store } from './s3-store';

/** How to reach one bucket, beyond its URL. */
export interface LocationOptions {
  /** S3: the bucket's region (no discovery). */
  region?: string;
  /** S3: a requester-pays bucket (requests carry `RequestPayer: requester`). */
  requesterPays?: boolean;
}

export interface StoreSettings {
  /** Every s3:// location: endpoint (S3-compatible stores), default region, credentials, path style. */
  s3: S3ClientSettings;
  /**
   * Find the region of an s3:// bucket with HeadBucket when no region is given, and use a client
   * of that region for it (presigned URLs must be signed for the bucket's region).
   * @default true for AWS S3, false with a custom endpoint
   */
  discoverS3Regions?: boolean;
  /**
   * Every gs:// location: the settings, or a function that resolves them on first use (e.g. a
   * secret read). Absent: gs:// locations are refused.
   */
  gcs?: GcsSettings | (() => Promise<GcsSettings>);
}

export class MissingGcsSettingsError extends Error {
  constructor(location: BucketLocation) {
    super(`${formatLocation(location)}: no GCS credentials are configured`);
    this.name = 'MissingGcsSettingsError';
  }
}

/**
 * The one place that turns a bucket URL into an ObjectStore: s3:// (AWS S3 or an S3-compatible
 * endpoint) or gs://. Clients are shared: one S3 client per region, one GCS client and signer.
 * Stores whose client needs an asynchronous step first (region discovery, reading the GCS
 * secret) are returned at once and resolve it on first use.
 */
export class StoreFactory {
  private readonly s3Clients = new Map<string, S3Client>();
  private readonly bucketRegions = new Map<string, Promise<string>>();
  private gcs?: Promise<{ settings: GcsSettings; client: Storage; signer: BlobSigner }>;

  constructor(private readonly settings: StoreSettings) {}

  get defaultRegion(): string {
    return this.settings.s3.region ?? 'us-east-1';
  }

  storeFor(location: BucketLocation, options: LocationOptions = {}): ObjectStore {
    if (location.scheme === 'gs') {
      if (!this.settings.gcs) throw new MissingGcsSettingsError(location);
      return new DeferredStore(location.bucket, () => this.gcsStore(location.bucket));
    }
    const s3Options = { requestPayer: options.requesterPays ? ('requester' as const) : undefined, readBack: this.settings.s3.readBack };
    const discover = this.settings.discoverS3Regions ?? this.settings.s3.endpoint === undefined;
    if (options.region || !discover) {
      return new S3Store(this.s3Client(options.region ?? this.defaultRegion), location.bucket, s3Options);
    }
    return new DeferredStore(location.bucket, async () => new S3Store(this.s3Client(await this.regionOf(location.bucket)), location.bucket, s3Options));
  }

  /** The S3 client of a region (created once). */
  s3Client(region: string): S3Client {
    let client = this.s3Clients.get(region);
    if (!client) {
      client = createS3Client({ ...this.settings.s3, region });
      this.s3Clients.set(region, client);
    }
    return client;
  }

  /** A bucket's region, discovered once; the default region when S3 does not say. */
  regionOf(bucket: string): Promise<string> {
    let region = this.bucketRegions.get(bucket);
    if (!region) {
      region = discoverBucketRegion(this.s3Client(this.defaultRegion), bucket).then(
        (found) => found ?? this.defaultRegion,
        (err) => {
          this.bucketRegions.delete(bucket); // no answer: ask again next time
          throw err;
        },
      );
      this.bucketRegions.set(bucket, region);
    }
    return region;
  }

  destroy(): void {
    for (const client of this.s3Clients.values()) client.destroy();
    this.s3Clients.clear();
  }

  private async gcsStore(bucket: string): Promise<GcsStore> {
    const { settings, client, signer } = await this.gcsClient();
    // Loaded on first use: functions and commands without gs:// locations never evaluate the GCS library.
    const { GcsStore, SIGN_BLOB_GUARANTEED_SECONDS } = await import('./gcs-store');
    const { DEFAULT_GCS_URL_BASE } = await import('./gcs-v4-signer');
    return new GcsStore(client, bucket, {
      signer,
      signedUrlBase: settings.apiEndpoint ?? DEFAULT_GCS_URL_BASE,
      userProject: settings.userProject,
      uploadChunkBytes: settings.uploadChunkBytes,
      signatureLifetimeSeconds: settings.signing.kind === 'sign-blob' ? SIGN_BLOB_GUARANTEED_SECONDS : undefined,
    });
  }

  private gcsClient() {
    this.gcs ??= (async () => {
      const given = this.settings.gcs!;
      const settings = typeof given === 'function' ? await given() : given;
      const { createGcsClient, createGcsSigner } = await import('./gcs-client');
      const client = createGcsClient(settings);
      return { settings, client, signer: createGcsSigner(settings, client) };
    })().catch((err) => {
      this.gcs = undefined; // a failed secret read is retried on next use
      throw err;
    });
    return this.gcs;
  }
}

/** A store whose real adapter is created on first use (once); `bucket` is known up front. */
export class DeferredStore implements ObjectStore {
  private store?: Promise<ObjectStore>;

  constructor(
    readonly bucket: string,
    private readonly create: () => Promise<ObjectStore>,
  ) {}

  resolve(): Promise<ObjectStore> {
    this.store ??= this.create().catch((err) => {
      this.store = undefined;
      throw err;
    });
    return this.store;
  }

  async *list(prefix: string, options?: ListOptions): AsyncIterable<ListPage> {
    yield* (await this.resolve()).list(prefix, options);
  }

  async presignGet(key: string, options: PresignOptions): Promise<string> {
    return (await this.resolve()).presignGet(key, options);
  }

  async write(key: string, body: WriteBody, options?: WriteOptions): Promise<{ bytes: number }> {
    return (await this.resolve()).write(key, body, options);
  }

  async read(key: string): Promise<Readable> {
    return (await this.resolve()).read(key);
  }

  async sizeOf(key: string): Promise<number | undefined> {
    return (await this.resolve()).sizeOf(key);
  }

  async delete(key: string): Promise<void> {
    return (await this.resolve()).delete(key);
  }

  async credentialsExpiry(): Promise<Date | undefined> {
    return (await this.resolve()).credentialsExpiry();
  }
}
