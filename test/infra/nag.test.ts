import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CfnResource, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { afterAll, describe, expect, it } from 'vitest';
import { BridgeStack, type BridgeStackProps } from '../../infra/bridge-stack';
import { exampleConfig, testApp } from './fixtures';

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

const withNag = (overrides: Partial<BridgeStackProps> = {}) => {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'bucket-bridge-nag-'));
  outdirs.push(outdir);
  const app = testApp({ outdir });
  const stack = new BridgeStack(app, 'BridgeNag', { config: exampleConfig(), ...overrides });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, outdir };
};

/** Synthesises with the AwsSolutions pack; on failure, the error names the unacknowledged findings. */
function synthOrReport(app: ReturnType<typeof withNag>['app'], outdir: string) {
  try {
    app.synth();
  } catch (err) {
    const report = path.join(outdir, 'policy-validation-report.json');
    const alt = path.join(outdir, 'validation-report.json');
    const file = existsSync(report) ? report : existsSync(alt) ? alt : undefined;
    const detail = file ? readFileSync(file, 'utf8') : String(err);
    throw new Error(`cdk-nag findings:\n${detail}`);
  }
}

interface Ack {
  path: string;
  id: string;
  reason: string;
  onCfnResource: boolean;
}

function acknowledgements(root: IConstruct): Ack[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          path: c.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
          onCfnResource: CfnResource.isCfnResource(c),
        })),
      ),
  );
}

/** Every finding of the pack as if nothing were acknowledged: `ruleName → construct paths`. */
function rawFindings(root: IConstruct): Map<string, string[]> {
  const pack = new AwsSolutionsChecks();
  // Test-only: bypass acknowledgements to check that each one matches a real finding.
  (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
  const report = pack.validateScope(root);
  return new Map(report.violations.map((v) => [v.ruleName, v.violatingResources.map((r) => r.constructPath ?? '')]));
}

const GENERIC_REASON = /^(n\/?a|none|todo|tbd|ok|okay|ignore(d)?|suppress(ed)?|false positive|not (needed|required|applicable)|by design|accepted|fine|known|test)\.?$/i;

describe('cdk-nag AwsSolutions', () => {
  it('synthesises the example deployment with zero unacknowledged findings', () => {
    const { app, outdir } = withNag();
    expect(() => synthOrReport(app, outdir)).not.toThrow();
  });

  it('stays clean with an imported key secret, a whole-bucket source and an encrypted destination', () => {
    const config = exampleConfig();
    config.sources.push({ id: 'all', bucket: 'whole-bucket', prefix: '', onObjectCreated: true, schedule: 'rate(1 day)' });
    config.destination.kmsKeyArn = 'arn:aws:kms:eu-west-1:111122223333:key/dest';
    const { app, outdir } = withNag({
      config,
      apiKeySecretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:roboflow-AbCdEf',
    });
    expect(() => synthOrReport(app, outdir)).not.toThrow();
  });

  it('stays clean with a source read from an SSE-KMS encrypted S3 Inventory', () => {
    const config = exampleConfig();
    config.sources[0]!.inventory = {
      bucket: 'inventory-reports',
      prefix: 'inv/example-media/daily/',
      kmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    };
    const { app, outdir } = withNag({ config });
    expect(() => synthOrReport(app, outdir)).not.toThrow();
  });

  it('still reports findings that nobody acknowledged (the check is live)', () => {
    const { app, stack, outdir } = withNag();
    new Queue(stack, 'Unreviewed'); // no DLQ, no TLS enforcement
    expect(() => synthOrReport(app, outdir)).toThrow(/AwsSolutions-SQS/);
  });

  it('acknowledges only specific findings, on the resource that raises them, with a specific reason', () => {
    const { stack } = withNag();
    const acks = acknowledgements(stack);
    expect(acks.length).toBeGreaterThan(0);
    const findings = rawFindings(stack);
    for (const ack of acks) {
      expect(ack.reason.length, ack.id).toBeGreaterThanOrEqual(20);
      expect(ack.reason, ack.id).not.toMatch(GENERIC_REASON);
      expect(ack.id, 'IAM5 must name the exact finding').not.toBe('AwsSolutions-IAM5');
      expect(ack.id).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(ack.onCfnResource, `${ack.id} on ${ack.path} is not scoped to one resource`).toBe(true);
      // No stale acknowledgement: the resource really raises this finding.
      expect(findings.get(ack.id) ?? [], `${ack.id} on ${ack.path}`).toContain(ack.path);
    }
    // And every finding is covered by an acknowledgement on its resource.
    const acked = new Set(acks.map((a) => `${a.path}|${a.id}`));
    for (const [id, paths] of findings) for (const p of paths) expect(acked, `${id} on ${p}`).toContain(`${p}|${id}`);
  });

  it('acknowledges exactly the expected kinds of findings', () => {
    const { stack } = withNag();
    const ids = [...new Set(acknowledgements(stack).map((a) => a.id))].sort();
    expect(ids).toEqual(
      [
        'AwsSolutions-L1',
        'AwsSolutions-SMG4',
        'AwsSolutions-IAM5[Resource::*]',
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::example-media/cameras/*]',
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::example-media/bucket-bridge/manifests/*]',
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::example-videos/dashcam/*]',
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::example-videos/bucket-bridge/manifests/*]',
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::example-results/roboflow/*]',
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::example-results/roboflow/.bucket-bridge-probe-*]',
      ].sort(),
    );
  });
});
