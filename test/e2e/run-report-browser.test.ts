import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, SANDBOX_WORKFLOW, SANDBOX_WORKSPACE, startLocalStack, type LocalStack } from '../../sandbox/local-stack';
import { fakeImage } from '../../sandbox/seed';
import type { RunSummary } from '../../shared/pipeline/summary';
import { runCli } from '../support/cli';

/**
 * The run report of a real run (CLI, local S3, Roboflow emulator), opened in headless Chromium
 * straight from the bucket (a signed URL) and as a downloaded file. Set REPORT_SCREENSHOT=<path>
 * to save a screenshot of it (the README's docs/report.png).
 */
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
// .ci/run requires it, so that the report is checked in a browser on both Node passes.
if (!hasChromium && process.env.BUCKET_BRIDGE_REQUIRE_CHROMIUM) throw new Error(`no Chromium at ${CHROMIUM}, and BUCKET_BRIDGE_REQUIRE_CHROMIUM is set`);
if (!hasChromium) console.warn(`run report browser test skipped: no Chromium at ${CHROMIUM} (install Debian's chromium package; .ci/run does)`);

const BUCKET = 'report';
const HOSTILE_IMAGE = 'in/<img src=x onerror=alert(1)>.jpg';
const HOSTILE_TEXT = 'in/notes/"><script>alert(2)</script>.txt';
const IMAGES = Array.from({ length: 6 }, (_, i) => `in/cams/${String(i + 1).padStart(4, '0')}.jpg`);
/** The emulator refuses images over this; the hostile image is bigger, so it fails at ingest. */
const EMULATOR_MAX_IMAGE_BYTES = 4096;

/** Every count of the summary by its path, as the report marks it (`failed.byType.<type>`). */
function summaryCounts(s: RunSummary): Record<string, number> {
  const counts: Record<string, number> = { listed: s.listed, submitted: s.submitted, 'failed.total': s.failed.total, 'exported.files': s.exported.files, 'exported.bytes': s.exported.bytes };
  if (s.ingested !== undefined) counts.ingested = s.ingested;
  if (s.durationSeconds !== undefined) counts.durationSeconds = s.durationSeconds;
  for (const [reason, n] of Object.entries(s.skipped)) counts[`skipped.${reason}`] = n;
  for (const [stage, n] of Object.entries(s.failed.byStage)) counts[`failed.byStage.${stage}`] = n;
  for (const [type, n] of Object.entries(s.failed.byType)) counts[`failed.byType.${type}`] = n;
  for (const [part, p] of Object.entries(s.exported.parts)) {
    counts[`exported.parts.${part}.files`] = p.files;
    counts[`exported.parts.${part}.bytes`] = p.bytes;
  }
  return counts;
}

/** The DOM members the checks read (the project compiles without the DOM library). */
interface DomElement {
  textContent: string | null;
  getAttribute(name: string): string | null;
  closest(selector: string): DomElement | null;
  querySelectorAll(selector: string): Iterable<DomElement>;
}

interface Visit {
  requests: string[];
  blocked: string[];
  problems: string[];
}

/** Opens the page with every request recorded and every non-loopback one blocked; console errors, page errors and dialogs are problems. */
async function visit(browser: Browser, url: string): Promise<{ page: Page; seen: Visit }> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  const seen: Visit = { requests: [], blocked: [], problems: [] };
  await context.route(/^(?!file:)/, async (route) => {
    const target = new URL(route.request().url());
    if (target.hostname === '127.0.0.1') return route.continue();
    seen.blocked.push(route.request().url());
    return route.abort();
  });
  const page = await context.newPage();
  page.on('request', (r) => seen.requests.push(r.url()));
  page.on('console', (m) => m.type() === 'error' && seen.problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => seen.problems.push(`page error: ${e.message}`));
  page.on('dialog', async (d) => {
    seen.problems.push(`dialog: ${d.message()}`);
    await d.dismiss();
  });
  const response = await page.goto(url, { waitUntil: 'load', timeout: 10_000 });
  if (response) expect(response.headers()['content-type']).toMatch(/^text\/html/);
  return { page, seen };
}

describe.skipIf(!hasChromium)(`the run report in headless Chromium${hasChromium ? '' : ` (skipped: no Chromium at ${CHROMIUM})`}`, () => {
  let stack: LocalStack;
  let browser: Browser;
  let workDir: string;
  let summary: RunSummary;
  let report: string;
  let reportKey: string;
  let failedLines: Array<{ key?: string; name: string; stage: string; type: string; reason: string }>;

  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    [stack, browser, workDir] = await Promise.all([
      startLocalStack({ buckets: [BUCKET], emulator: { ingestDelayMs: 10, jobStageDelayMs: 20, maxImageBytes: EMULATOR_MAX_IMAGE_BYTES } }),
      chromium.launch({ executablePath: CHROMIUM }),
      mkdtemp(join(tmpdir(), 'bb-report-')),
    ]);
    const store = stack.store(BUCKET);
    for (const key of IMAGES) await store.write(key, fakeImage(key));
    await store.write(HOSTILE_IMAGE, fakeImage(HOSTILE_IMAGE, EMULATOR_MAX_IMAGE_BYTES * 2));
    await store.write(HOSTILE_TEXT, 'not an image\n');

    ({ summary, failedLines, report, reportKey } = await runAndRead('out'));
  });
  /** Runs the CLI on `in/` into `<dest>/` through webhooks and reads the run folder's summary, failures and report. */
  async function runAndRead(dest: string) {
    const port = await freePort();
    const result = await runCli(
      ['run', '--source', `s3://${BUCKET}/in/`, '--dest', `s3://${BUCKET}/${dest}/`, '--workspace', SANDBOX_WORKSPACE, '--workflow', SANDBOX_WORKFLOW,
        '--webhook-url', `http://127.0.0.1:${port}`, '--webhook-listen', `127.0.0.1:${port}`, '--timeout', '30', '--state-dir', join(workDir, 'state'), '--quiet'],
      stack.env,
    );
    expect(result.summary, result.stderr).toBeDefined();
    const store = stack.store(BUCKET);
    const folder = `${dest}/${result.summary!.runId}/`;
    return {
      code: result.code,
      summary: JSON.parse(await text(await store.read(`${folder}summary.json`))) as RunSummary,
      failedLines: (await text(await store.read(`${folder}failed.jsonl`))).split('\n').filter(Boolean).map((l) => JSON.parse(l)),
      reportKey: `${folder}report.html`,
      report: await text(await store.read(`${folder}report.html`)),
    };
  }

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  /** What every opening of the report must show, read from the DOM. */
  async function expectReportMatchesSummary(page: Page) {
    const rows = (selector: string) =>
      page.locator(selector).evaluateAll((trs: DomElement[]) =>
        trs.map((tr) => ({ reason: tr.closest('.group')!.getAttribute('data-reason'), key: tr.getAttribute('data-key'), cells: [...tr.querySelectorAll('td')].map((td) => td.textContent) })),
      );
    const dom = {
      status: await page.locator('#status').getAttribute('data-status'),
      counts: await page.locator('[data-count]').evaluateAll((els: DomElement[]) => els.map((e) => [e.getAttribute('data-count')!, Number(e.getAttribute('data-value')), e.textContent!.trim()] as const)),
      markup: await page.locator('script, img, iframe, object, embed, link').count(),
      charts: await page.locator('svg.chart').count(),
      failed: await rows('.group[data-kind="failed"] tr.object'),
      skipped: (await rows('.group[data-kind="skipped"] tr.object')).map((r) => [r.reason, r.cells.join('')]),
    };
    expect(dom.status).toBe(summary.status);
    expect(dom.markup).toBe(0);
    expect(dom.charts).toBe(3); // objects per phase, skipped or failed by reason, timeline

    const expected = summaryCounts(summary);
    const shown = new Map<string, number[]>();
    for (const [path, value] of dom.counts) shown.set(path, [...(shown.get(path) ?? []), value]);
    for (const [path, value] of Object.entries(expected)) {
      expect(shown.get(path), path).toBeDefined();
      for (const v of shown.get(path)!) expect(v, path).toBe(value);
    }
    // Plain counts also read as their number.
    for (const path of ['listed', 'submitted', 'ingested', 'failed.total', 'exported.files']) {
      expect(dom.counts.find(([p]) => p === path)?.[2], path).toBe(String(expected[path]));
    }
    const skippedTotal = Object.values(summary.skipped).reduce((a, b) => a + b, 0);
    expect(dom.counts.filter(([p]) => p === 'skippedTotal').map(([, v]) => v)).toEqual([skippedTotal]);
    expect(dom.counts.filter(([p]) => p.startsWith('failed.byReason.')).reduce((n, [, v]) => n + v, 0)).toBe(summary.failed.total);

    // Every failure of failed.jsonl, with its key and reason (the run has fewer than the page's limit).
    expect(failedLines.length).toBe(summary.failed.total);
    for (const f of failedLines) {
      expect(dom.failed).toContainEqual({ reason: `${f.stage}: ${f.type}`, key: f.key ?? f.name, cells: [f.key ?? f.name, f.reason] });
    }
    expect(dom.skipped).toContainEqual(['not-media', HOSTILE_TEXT]);
  }

  it('of a failed run shows its status and reason, escaped', async () => {
    const error = 'emulated 402 <img src=x onerror=alert(3)>';
    stack.roboflow.setFaults({ failures: [{ pathIncludes: '/batch-processing/', method: 'POST', status: 402, count: 1, body: { error } }] });
    const failedRun = await runAndRead('failed-run');
    stack.roboflow.setFaults({});
    expect(failedRun.code).toBe(1);
    expect(failedRun.summary).toMatchObject({ status: 'failed', error: expect.stringContaining(error) });
    const url = await stack.store(BUCKET).presignGet(failedRun.reportKey, { expiresInSeconds: 300 });
    const { page, seen } = await visit(browser, url);
    expect(await page.locator('#status').getAttribute('data-status')).toBe('failed');
    expect(await page.locator('#error').textContent()).toBe(failedRun.summary.error);
    expect(await page.locator('[data-count="submitted"]').getAttribute('data-value')).toBe(String(failedRun.summary.submitted));
    expect(await page.locator('img, script').count()).toBe(0);
    expect(seen.problems).toEqual([]);
    expect(seen.requests).toEqual([url]);
  });

  it('renders from the bucket with the numbers of summary.json, the failed object with its reason, and no outside request', async () => {
    expect(summary).toMatchObject({ status: 'completed', listed: IMAGES.length + 2, skipped: { 'not-media': 1 }, submitted: IMAGES.length + 1, ingested: IMAGES.length });
    expect(failedLines).toEqual([expect.objectContaining({ key: HOSTILE_IMAGE, stage: 'ingest', type: 'file-size-limit-exceeded' })]);
    expect(report).not.toMatch(/X-Amz-Signature|X-Amz-Credential/);

    const url = await stack.store(BUCKET).presignGet(reportKey, { expiresInSeconds: 300 });
    const { page, seen } = await visit(browser, url);
    await expectReportMatchesSummary(page);
    expect(seen.problems).toEqual([]);
    expect(seen.blocked).toEqual([]);
    expect(seen.requests).toEqual([url]);
    if (process.env.REPORT_SCREENSHOT) await page.screenshot({ path: process.env.REPORT_SCREENSHOT, fullPage: true, type: 'png' });
  });

  it('renders the same as a downloaded file', async () => {
    const file = join(workDir, 'report.html');
    await writeFile(file, report);
    const url = pathToFileURL(file).href;
    const { page, seen } = await visit(browser, url);
    await expectReportMatchesSummary(page);
    expect(seen.problems).toEqual([]);
    expect(seen.blocked).toEqual([]);
    expect(seen.requests).toEqual([url]);
  });
});
