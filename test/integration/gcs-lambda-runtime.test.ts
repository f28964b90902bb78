import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startLocalGcs, type LocalGcs } from '../../sandbox/local-stack';
import { verifyGcsV4Signature } from '../../sandbox/gcs-v4-verify';
import { seedDemoBucket, type SeededBucket } from '../../sandbox/seed';
import { parseBridgeConfig } from '../../shared/config/bridge-config';
import { silentLogger } from '../../shared/log';
import { scheduledRunId } from '../../shared/run/scheduled-run';
import { specForSource } from '../../shared/run/source-spec';
import { createLambdaRuntime } from '../../shared/runtime/lambda-runtime';
import { S3Store } from '../../shared/storage/s3-store';
import { listObjects } from '../support/s3';
import { FUNCTION_PARTS, startServerlessHarness, type ServerlessHarness } from '../support/serverless';

const GCS_BUCKET = 'gcs-deployed-media';
const KEY_SECRET = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:bucket-bridge/gcs-key-AbCdEf';
const WIF_SECRET = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:bucket-bridge/gcs-wif-AbCdEf';

/**
 * The deployed runtime with a GCS source: the credentials come from Secrets Manager (a fake on
 * loopback), the scheduled run lists and signs from the fake GCS, Roboflow (the emulator)
 * downloads the signed URLs, and the results land in the S3 destination.
 */
describe('deployed functions with a GCS source', () => {
  let h: ServerlessHarness;
  let gcs: LocalGcs & { close(): Promise<void> };
  let seeded: SeededBucket;
  const tick = new Date('2026-11-23T11:00:00Z');

  beforeAll(async () => {
    gcs = await startLocalGcs([GCS_BUCKET]);
    h = await startServerlessHarness({
      config: {
        sources: [{ id: 'gcs-cams', store: 'gcs', bucket: GCS_BUCKET, prefix: 'incoming/', media: 'images', schedule: 'rate(1 hour)' }],
        gcsCredentialsSecretArn: KEY_SECRET,
      },
    });
    seeded = await seedDemoBucket(gcs.store(GCS_BUCKET), 'incoming/', { withOversize: false });
    h.aws.putSecret(KEY_SECRET, JSON.stringify(gcs.account.key));
    // A local setting every function gets; containers built from now on see it.
    h.env.GCS_ENDPOINT = gcs.server.url;
  });
  afterAll(async () => {
    await h.close();
    await gcs.close();
  });

  it('runs a scheduled tick of the GCS source to results in S3 (start-job and export without the GCS secret)', async () => {
    // Fresh containers (with the GCS endpoint). As the stack deploys them, only the functions that
    // read sources get the GCS secret: scheduled-run and continue-submission, not start-job or export.
    const withGcs = h.container();
    expect(withGcs.envs['scheduled-run'].GCS_CREDENTIALS_SECRET_ARN).toBe(KEY_SECRET);
    expect(withGcs.envs['continue-submission'].GCS_CREDENTIALS_SECRET_ARN).toBe(KEY_SECRET);
    expect(withGcs.envs['start-job']).not.toHaveProperty('GCS_CREDENTIALS_SECRET_ARN');
    expect(withGcs.envs.export).not.toHaveProperty('GCS_CREDENTIALS_SECRET_ARN');
    const runId = scheduledRunId('gcs-cams', tick);
    const result = await withGcs.scheduledRun({ sourceId: 'gcs-cams', time: tick.toISOString(), id: 'evt-gcs' }, h.context());
    expect(result).toEqual({ runId, result: 'submitted' });
    // h.pump hands start-job and export messages to the harness's main container (built before the GCS endpoint was set).
    await h.pump(async () => ['completed', 'failed'].includes((await h.main.runtime.state.getRun(runId))?.phase ?? ''));
    const done = (await h.main.runtime.state.getRun(runId))!;
    expect(done.phase, done.error).toBe('completed');
    expect(done).toMatchObject({ submitted: seeded.images.length, ingested: seeded.images.length, jobState: 'success' });
    expect(done.spec.source).toEqual({ scheme: 'gs', bucket: GCS_BUCKET, prefix: 'incoming/' });

    const results = await listObjects(h.stack.store('results'), `out/${runId}/`);
    // The results, plus summary.json, failed.jsonl, names.jsonl, report.html and results-by-key.jsonl.
    expect(results.length).toBe(done.exported!.files + 5);
    const summary = JSON.parse(await text(await h.stack.store('results').read(`out/${runId}/summary.json`)));
    expect(summary).toMatchObject({ status: 'completed', source: `gs://${GCS_BUCKET}/incoming/` });

    // Every image and the references file were fetched by the emulator through verified signed URLs.
    const signed = gcs.server.requests.filter((r) => r.kind === 'signed');
    expect(signed.filter((r) => r.status !== 200)).toEqual([]);
    expect(signed.length).toBeGreaterThanOrEqual(seeded.images.length + 1);
    expect(gcs.server.names(GCS_BUCKET)).toContain(`bucket-bridge/manifests/${runId}/references-00000.jsonl`);
  });

  it('reads the GCS secret once per container and signs with it; S3 destinations stay S3', async () => {
    // The scheduled-run function's runtime as deployed: its environment and its parts.
    const rt = createLambdaRuntime(h.functionEnv('scheduled-run'), FUNCTION_PARTS['scheduled-run'], silentLogger);
    const spec = specForSource(rt.config, rt.config.sources[0]!);
    const deps = await rt.depsFor(spec); // reads the Roboflow key and webhook secrets
    expect(deps.dest).toBeInstanceOf(S3Store);
    const before = h.aws.secretReads();
    const urls = await Promise.all(seeded.images.slice(0, 5).map((k) => deps.source.presignGet(k, { expiresInSeconds: 900 })));
    expect(h.aws.secretReads() - before).toBe(1); // five concurrent first uses share one read
    const again = await rt.depsFor(spec);
    expect(await again.source.sizeOf(seeded.images[0]!)).toBe(2048);
    expect(h.aws.secretReads() - before).toBe(1);
    for (const url of urls) {
      expect(verifyGcsV4Signature(url, gcs.account.publicKey)).toBe(true);
      expect((await fetch(url)).status).toBe(200);
    }
  });

  it('fails a GCS source clearly in a function that has no GCS secret', async () => {
    const { runtimes } = h.container();
    for (const name of ['start-job', 'export'] as const) {
      const spec = specForSource(runtimes[name].config, runtimes[name].config.sources[0]!);
      const deps = await runtimes[name].depsFor(spec);
      await expect(deps.source.presignGet('incoming/a/b.jpg', { expiresInSeconds: 60 }), name).rejects.toThrow(/GCS_CREDENTIALS_SECRET_ARN is not set/);
    }
  });

  it('signs keylessly with a signBlob secret whose credentials are AWS workload identity federation', async () => {
    // google-auth-library's AWS source signs a GetCallerIdentity request with the function's AWS
    // credentials (from the environment) and exchanges it at the STS token URL (here the fake).
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDLAMBDAROLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'lambda-role-secret');
    vi.stubEnv('AWS_SESSION_TOKEN', 'lambda-role-session');
    try {
      h.aws.putSecret(
        WIF_SECRET,
        JSON.stringify({
          signBlob: { serviceAccount: gcs.account.email, iamCredentialsUrl: gcs.iam.url, concurrency: 4 },
          credentials: {
            type: 'external_account',
            audience: '//iam.googleapis.com/projects/123456/locations/global/workloadIdentityPools/aws/providers/lambda',
            subject_token_type: 'urn:ietf:params:aws:token-type:aws4_request',
            token_url: `${gcs.iam.url}/v1/token`,
            credential_source: {
              environment_id: 'aws1',
              regional_cred_verification_url: 'https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15',
            },
          },
        }),
      );
      const config = parseBridgeConfig({ ...JSON.parse(h.env.BRIDGE_CONFIG!), gcsCredentialsSecretArn: WIF_SECRET });
      const rt = createLambdaRuntime(
        { ...h.functionEnv('scheduled-run'), BRIDGE_CONFIG: JSON.stringify(config), GCS_CREDENTIALS_SECRET_ARN: WIF_SECRET },
        FUNCTION_PARTS['scheduled-run'],
        silentLogger,
      );
      const deps = await rt.depsFor(specForSource(rt.config, rt.config.sources[0]!));
      const callsBefore = gcs.iam.calls.length;
      const urls = await Promise.all(seeded.images.slice(0, 6).map((k) => deps.source.presignGet(k, { expiresInSeconds: 900 })));
      expect(gcs.iam.calls.slice(callsBefore).map((c) => c.status)).toEqual([200, 200, 200, 200, 200, 200]);
      const subject = decodeURIComponent(gcs.iam.subjectTokens.at(-1)!);
      expect(subject).toContain('GetCallerIdentity');
      expect(subject).toContain('AKIDLAMBDAROLE');
      for (const url of urls) {
        expect(verifyGcsV4Signature(url, gcs.account.publicKey)).toBe(true);
        expect((await fetch(url)).status).toBe(200);
      }
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
