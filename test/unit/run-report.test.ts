import { describe, expect, it } from 'vitest';
import { keepSkippedKey, SKIPPED_KEYS_KEPT } from '../../shared/pipeline/skip-samples';
import type { RunSummary } from '../../shared/pipeline/summary';
import { groupFailures, OTHER_REASONS, REPORT_MAX_REASONS, skippedGroups } from '../../shared/report/reason-groups';
import { renderReport } from '../../shared/report/render-report';
import type { RunReport } from '../../shared/report/report-model';
import { listResultFiles } from '../../shared/report/result-files';
import { phasesOf } from '../../shared/report/timeline';
import type { ExportTaskResult, FileFailure } from '../../shared/state/run-record';

const HOSTILE = 'in/<img src=x onerror=alert(1)>.jpg';
const QUOTED = 'in/"><script>alert(2)</script>\'.png';

async function* stream<T>(items: Iterable<T>): AsyncGenerator<T> {
  for (const item of items) yield item;
}

function summary(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    runId: 'run-1',
    status: 'failed',
    error: '1 result file(s) could not be copied',
    source: 's3://media/in/',
    destination: 's3://media/out/run-1/',
    media: 'images',
    target: { name: 'roboflow', batchId: 'b-1', jobId: 'j-1' },
    listed: 12,
    skipped: { 'not-media': 1 },
    submitted: 11,
    ingested: 10,
    failed: { total: 2, byStage: { ingest: 1, export: 1 }, byType: { 'file-download-failed': 1, 'export-failed': 1 } },
    jobState: 'success',
    exported: { files: 9, bytes: 4096, parts: { predictions: { files: 9, bytes: 4096 } } },
    chunks: [{ ingestId: 'i-1', references: 11, status: 'ingested' }],
    timings: {
      createdAt: '2026-12-04T10:00:00.000Z',
      submittedAt: '2026-12-04T10:00:02.000Z',
      jobStartedAt: '2026-12-04T10:00:05.000Z',
      jobFinishedAt: '2026-12-04T10:01:05.000Z',
      finishedAt: '2026-12-04T10:01:10.000Z',
    },
    durationSeconds: 70,
    ...overrides,
  };
}

function report(overrides: Partial<RunReport> = {}): RunReport {
  return {
    summary: summary(),
    skipped: skippedGroups({ 'not-media': 1 }, { 'not-media': [QUOTED] }),
    failed: [{ reason: 'ingest: file-download-failed', total: 1, items: [{ key: HOSTILE, detail: 'download failed with HTTP 404 <b>' }] }],
    results: { files: [], total: 0 },
    files: ['summary.json', 'failed.jsonl'],
    generatedAt: '2026-12-04T10:01:11.000Z',
    ...overrides,
  };
}

describe('the run report page', () => {
  it('escapes hostile keys and reasons in text and in attributes, so none becomes markup', () => {
    const page = renderReport(report());
    expect(page).not.toContain('<img');
    expect(page).not.toContain('<script');
    expect(page).not.toContain('<b>');
    expect(page).toContain('in/&lt;img src=x onerror=alert(1)&gt;.jpg');
    expect(page).toContain('data-key="in/&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;&#39;.png"');
    expect(page).toContain('download failed with HTTP 404 &lt;b&gt;');
  });

  it('loads nothing from anywhere: no script, stylesheet, image or frame, and a CSP that forbids them', () => {
    const page = renderReport(report());
    expect(page).not.toMatch(/<(script|link|img|iframe|object|embed)\b/i);
    expect(page).not.toMatch(/\s(src|srcset|action)=["']/i);
    expect(page).not.toMatch(/href="(https?:)?\/\//i);
    expect(page).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
  });

  it('gives every count of the summary its path and exact value', () => {
    const page = renderReport(report());
    for (const [path, value] of [
      ['listed', 12], ['submitted', 11], ['ingested', 10], ['failed.total', 2], ['skipped.not-media', 1],
      ['failed.byStage.ingest', 1], ['failed.byType.export-failed', 1], ['exported.files', 9], ['exported.bytes', 4096],
      ['exported.parts.predictions.files', 9], ['exported.parts.predictions.bytes', 4096], ['durationSeconds', 70],
    ] as const) {
      expect(page).toContain(`data-count="${path}" data-value="${value}"`);
    }
  });

  it('says how many keys of a reason are not shown', async () => {
    const failures: FileFailure[] = Array.from({ length: 120 }, (_, i) => ({ name: `n${i}`, key: `in/${i}.jpg`, stage: 'ingest', type: 'not-ingested', reason: 'gone' }));
    const page = renderReport(report({ failed: await groupFailures(stream(failures), 50) }));
    expect(page.match(/<tr class="object"/g)).toHaveLength(50 + 1); // 50 failed, 1 skipped
    expect(page).toContain('… and 70 more (the first 50 of each reason are shown; failed.jsonl lists them all)');
  });

  it('does not carry a signed URL quoted in a failure reason', async () => {
    const signed = 'http://127.0.0.1:9/b/k.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20261204&X-Amz-Signature=0123456789abcdef0123456789abcdef';
    const failures: FileFailure[] = [{ name: 'n', key: 'in/k.jpg', stage: 'ingest', type: 'file-download-failed', reason: `could not fetch ${signed}` }];
    const page = renderReport(report({ failed: await groupFailures(stream(failures)) }));
    expect(page).toContain('in/k.jpg');
    expect(page).not.toMatch(/X-Amz-Signature=0123|X-Amz-Credential=AKIA/);
  });

  it('links result files relative to the report, percent-encoded, and never a failed or unpacked one', async () => {
    const results: ExportTaskResult[] = [
      { taskId: 'batch-1/predictions/a b#1.json', part: 'predictions', files: 1, bytes: 10 },
      { taskId: 'batch-1/predictions/all.tar.gz', part: 'predictions', files: 4, bytes: 40 },
      { taskId: 'batch-1/predictions/lost.json', part: 'predictions', files: 0, bytes: 0, failure: { type: 'export-failed', reason: 'HTTP 500' } },
    ];
    const page = renderReport(report({ results: await listResultFiles(stream(results)) }));
    expect(page).toContain('<a href="predictions/a%20b%231.json"><code>predictions/a b#1.json</code></a>');
    expect(page).not.toContain('href="predictions/all.tar.gz"');
    expect(page).not.toContain('href="predictions/lost.json"');
    expect(page).toContain('export-failed: HTTP 500');
  });
});

describe('the report data, bounded', () => {
  it('groups failures by stage and type, largest first, keeping the first keys of each', async () => {
    const failures: FileFailure[] = [
      ...Array.from({ length: 5 }, (_, i): FileFailure => ({ name: `a${i}`, key: `k/a${i}`, stage: 'ingest', type: 'not-ingested', reason: 'r' })),
      { name: 'part/file.json', stage: 'export', type: 'export-failed', reason: 'HTTP 500' },
    ];
    const groups = await groupFailures(stream(failures), 3);
    expect(groups.map((g) => [g.reason, g.total, g.items.length])).toEqual([['ingest: not-ingested', 5, 3], ['export: export-failed', 1, 1]]);
    expect(groups[1]!.items[0]).toEqual({ key: 'part/file.json', detail: 'HTTP 500' });
  });

  it('folds reasons past the limit into one group, so a run with many distinct types stays bounded', async () => {
    const failures = Array.from({ length: REPORT_MAX_REASONS + 15 }, (_, i): FileFailure => ({ name: `n${i}`, key: `k${i}`, stage: 'ingest', type: `type-${i}`, reason: 'r' }));
    const groups = await groupFailures(stream(failures));
    expect(groups).toHaveLength(REPORT_MAX_REASONS + 1);
    expect(groups.find((g) => g.reason === OTHER_REASONS)).toMatchObject({ total: 15 });
    expect(groups.reduce((n, g) => n + g.total, 0)).toBe(failures.length);
  });

  it('lists failed result files first and at most the limit, counting them all', async () => {
    const results: ExportTaskResult[] = Array.from({ length: 30 }, (_, i) => ({ taskId: `b/p/f${i}.json`, part: 'p', files: 1, bytes: 1, ...(i === 29 ? { failure: { type: 'export-failed', reason: 'x' } } : {}) }));
    const list = await listResultFiles(stream(results), 10);
    expect(list.total).toBe(30);
    expect(list.files).toHaveLength(10);
    expect(list.files[0]).toMatchObject({ path: 'p/f29.json', failure: { type: 'export-failed' } });
  });

  it('keeps the first keys of each skip reason only', () => {
    const samples: Record<string, string[]> = {};
    for (let i = 0; i < 50; i++) keepSkippedKey(samples, 'not-media', `k${i}`);
    keepSkippedKey(samples, 'empty', 'e');
    expect(samples['not-media']).toHaveLength(SKIPPED_KEYS_KEPT);
    expect(samples['not-media']![0]).toBe('k0');
    expect(samples.empty).toEqual(['e']);
  });

  it('reads the phases from the timings in time order, whatever order the marks are stored in', () => {
    const phases = phasesOf({ finishedAt: '2026-12-04T10:00:09Z', createdAt: '2026-12-04T10:00:00Z', jobStartedAt: '2026-12-04T10:00:03Z', submittedAt: '2026-12-04T10:00:01Z', bogus: 'never' });
    expect(phases.map((p) => [p.name, p.seconds])).toEqual([['list, sign, submit', 1], ['ingest', 2], ['job', 6]]);
  });
});
