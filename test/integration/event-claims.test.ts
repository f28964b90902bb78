import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/log';
import type { FollowUp } from '../../shared/pipeline/chain';
import { claimExportPlan, releaseExportPlan } from '../../shared/pipeline/export-plan-claim';
import { newRunRecord } from '../../shared/run/start-run';
import { DynamoStateStore } from '../../shared/state/dynamo';
import { keys } from '../../shared/state/dynamo/table';
import { FileStateStore } from '../../shared/state/file-state';
import type { StateStore } from '../../shared/state/port';
import { parseRoboflowWebhook } from '../../shared/targets/roboflow/webhook';
import { receiveWebhook, webhookPath } from '../../shared/webhook/receive';
import { startDynalite, type TestDynamo } from '../support/dynalite';
import { jobFinishedBody, ROBOFLOW_NOTIFICATION_HEADERS } from '../support/roboflow-notifications';
import { specFor, tempDir } from '../support/domain';

const TOKEN = 't'.repeat(43);
const lease = (ms: number, owner = 'me') => ({ owner, leaseUntil: Date.now() + ms });

describe.each(['dynamodb', 'file'] as const)('claims and corrections in %s state', (kind) => {
  let ddb: TestDynamo | undefined;
  let tables = 0;

  beforeAll(async () => {
    if (kind === 'dynamodb') ddb = await startDynalite();
  });
  afterAll(() => ddb?.close());

  async function store(): Promise<StateStore> {
    if (kind === 'file') return new FileStateStore(await tempDir('bb-claims-'));
    return new DynamoStateStore(ddb!.doc, await ddb!.createStateTable(`bb-claims-${++tables}`), { retryBaseMs: 2 });
  }

  it('gives an event to exactly one of 50 concurrent claims; the others see it in flight, then done', async () => {
    const state = await store();
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => state.claimEvent('e1', lease(30_000, `o${i}`))));
    expect(answers.filter((a) => a === 'claimed')).toHaveLength(1);
    expect(answers.filter((a) => a === 'in-flight')).toHaveLength(49);
    expect(await state.hasEvent('e1')).toBe(false);
    await state.completeEvent('e1');
    expect(await state.hasEvent('e1')).toBe(true);
    expect(await state.claimEvent('e1', lease(30_000, 'late'))).toBe('done');
  });

  it('lets the next copy claim an event whose handler released it, or whose lease lapsed', async () => {
    const state = await store();
    expect(await state.claimEvent('e2', lease(30_000, 'first'))).toBe('claimed');
    await state.releaseEvent('e2', 'someone-else');
    expect(await state.claimEvent('e2', lease(30_000, 'second'))).toBe('in-flight');
    await state.releaseEvent('e2', 'first');
    expect(await state.claimEvent('e2', lease(-1, 'second'))).toBe('claimed');
    // That claim has lapsed already (a handler that died): the next copy takes it over.
    expect(await state.claimEvent('e2', lease(30_000, 'third'))).toBe('claimed');
    await state.releaseEvent('e2', 'second');
    expect(await state.claimEvent('e2', lease(30_000, 'fourth'))).toBe('in-flight');
  });

  it('treats events recorded before claims existed as done', async () => {
    const state = await store();
    if (kind === 'dynamodb') {
      const table = `bb-claims-${tables}`;
      await ddb!.doc.send(new PutCommand({ TableName: table, Item: { ...keys.event('old'), eventId: 'old', recordedAt: new Date().toISOString() } }));
    } else {
      expect(await state.recordEvent('old')).toBe(true);
    }
    expect(await state.hasEvent('old')).toBe(true);
    expect(await state.claimEvent('old', lease(30_000))).toBe('done');
  });

  it('forgets the failures of one stage for the given names only', async () => {
    const state = await store();
    await state.createRun(newRunRecord('r2', specFor('s3://bucket/in/', 's3://bucket/out/')));
    const failure = (name: string, stage: 'ingest' | 'export') => ({ name, stage, type: 't', reason: 'r' });
    await state.recordFailures('r2', [failure('a', 'ingest'), failure('b', 'ingest'), failure('a', 'export')]);
    await state.forgetFailures('r2', 'ingest', ['a', 'missing']);
    const left = [];
    for await (const f of state.failures('r2')) left.push(`${f.stage}:${f.name}`);
    expect(left.sort()).toEqual(['export:a', 'ingest:b']);
  });

  it('gives the export planning of a run to one of 20 concurrent planners until it is released or planned', async () => {
    const state = await store();
    const run = { ...newRunRecord('r1', specFor('s3://bucket/in/', 's3://bucket/out/')), phase: 'processing' as const };
    await state.createRun(run);
    const claims = await Promise.all(Array.from({ length: 20 }, () => claimExportPlan(state, 'r1')));
    const owners = claims.filter((c) => c.state === 'claimed');
    expect(owners).toHaveLength(1);
    expect(claims.filter((c) => c.state === 'busy')).toHaveLength(19);
    await releaseExportPlan(state, 'r1', 'not-the-owner');
    expect((await claimExportPlan(state, 'r1')).state).toBe('busy');
    await releaseExportPlan(state, 'r1', (owners[0] as { owner: string }).owner);
    expect((await claimExportPlan(state, 'r1')).state).toBe('claimed');
    // A lapsed claim is taken over; a planned export is not planned again; an ended run is left alone.
    expect((await claimExportPlan(state, 'r1', Date.now() + 16 * 60_000)).state).toBe('claimed');
    await state.updateRun('r1', (r) => ({ ...r, exportTasks: 3 }));
    expect((await claimExportPlan(state, 'r1', Date.now() + 60 * 60_000)).state).toBe('planned');
    await state.updateRun('r1', (r) => ({ ...r, phase: 'completed' }));
    const before = await state.getRun('r1');
    expect((await claimExportPlan(state, 'r1')).state).toBe('inactive');
    expect(await state.getRun('r1')).toEqual(before);
  });
});

describe('a webhook whose follow-up cannot be handed on (DynamoDB state)', () => {
  let ddb: TestDynamo;

  beforeAll(async () => {
    ddb = await startDynalite();
  });
  afterAll(() => ddb.close());

  it('answers 500 and is handled again at the sender\'s retry; copies that arrive meanwhile answer 503', async () => {
    const state = new DynamoStateStore(ddb.doc, await ddb.createStateTable('bb-hand-on'), { retryBaseMs: 2 });
    const run = { ...newRunRecord('r1', specFor('s3://bucket/in/', 's3://bucket/out/')), phase: 'processing' as const };
    await state.createRun(run);
    const handedOn: FollowUp[] = [];
    let release: () => void = () => {};
    let attempt = 0;
    const handOn = async (followUp: FollowUp) => {
      attempt++;
      if (attempt === 1) {
        // The queue is slow, then refuses: copies arrive while this one holds the event.
        await new Promise<void>((resolve) => (release = resolve));
        throw new Error('SQS unavailable');
      }
      handedOn.push(followUp);
    };
    const deps = { state, log: silentLogger, parseWebhook: parseRoboflowWebhook, handOn };
    const request = {
      method: 'POST',
      path: webhookPath(TOKEN),
      headers: ROBOFLOW_NOTIFICATION_HEADERS,
      body: jobFinishedBody(run.jobId, 'job-done'),
    };
    const first = receiveWebhook(deps, TOKEN, request);
    while (attempt === 0) await new Promise((r) => setTimeout(r, 5));
    expect(await receiveWebhook(deps, TOKEN, request)).toEqual({ status: 503, body: { outcome: 'in-progress' } });
    release();
    expect(await first).toEqual({ status: 500, body: { error: 'internal error' } });
    expect(await state.hasEvent('job-done')).toBe(false);

    expect(await receiveWebhook(deps, TOKEN, request)).toMatchObject({ status: 200, body: { outcome: 'recorded' } });
    expect(handedOn).toEqual([{ action: 'export', runId: 'r1' }]);
    expect(await receiveWebhook(deps, TOKEN, request)).toEqual({ status: 200, body: { outcome: 'duplicate' } });
    expect(handedOn).toHaveLength(1);
  });
});
