import { createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { WebhookRejected } from '../../shared/targets/port';
import { parseExtendWebhook, verifyExtendSignature } from '../../shared/targets/extend/webhook';
import { multipartStream } from '../../shared/targets/llamacloud/multipart';
import { parseLlamaWebhook, verifyLlamaSignature } from '../../shared/targets/llamacloud/webhook';
import { webhookParserFor } from '../../shared/targets/webhook-parser';

const SECRET = 'wss_test_secret';
const extendHeaders = (raw: string, ts: number, secret = SECRET) => ({
  'x-extend-request-timestamp': String(ts),
  'x-extend-request-signature': createHmac('sha256', secret).update(`v0:${ts}:${raw}`).digest('hex'),
});

describe('Extend webhook signatures', () => {
  const now = 1_795_000_000;
  const raw = JSON.stringify({ eventId: 'evt_1', eventType: 'batch_processor_run.processed', payload: { object: 'batch_run', id: 'bpr_1', status: 'PROCESSED' } });

  it('accepts a fresh, correctly signed body and turns batch completion into a job event', () => {
    expect(verifyExtendSignature(raw, extendHeaders(raw, now), SECRET, now)).toBe(true);
    expect(parseExtendWebhook(extendHeaders(raw, now - 10), raw, SECRET, now)).toEqual({ kind: 'job', eventId: 'evt_1', jobId: 'bpr_1', state: 'PROCESSED' });
  });

  it.each([
    ['a tampered body', () => [extendHeaders(raw, now), raw.replace('PROCESSED', 'FAILED!!!')] as const],
    ['another secret', () => [extendHeaders(raw, now, 'wss_other'), raw] as const],
    ['a stale timestamp', () => [extendHeaders(raw, now - 301), raw] as const],
    ['a timestamp from the future', () => [extendHeaders(raw, now + 61), raw] as const],
    ['no signature', () => [{ 'x-extend-request-timestamp': String(now) }, raw] as const],
    ['a short signature', () => [{ ...extendHeaders(raw, now), 'x-extend-request-signature': 'abcd' }, raw] as const],
  ])('rejects %s with 401 before parsing', (_label, make) => {
    const [headers, body] = make();
    expect(verifyExtendSignature(body, headers, SECRET, now)).toBe(false);
    expect(() => parseExtendWebhook(headers, body, SECRET, now)).toThrow(WebhookRejected);
    try {
      parseExtendWebhook(headers, body, SECRET, now);
    } catch (err) {
      expect((err as WebhookRejected).status).toBe(401);
    }
  });

  it('answers 400 to a signed but malformed body', () => {
    const bad = '{"eventType": 3}';
    expect(() => parseExtendWebhook(extendHeaders(bad, now), bad, SECRET, now)).toThrow(/invalid Extend event/);
  });
});

describe('LlamaCloud webhook signatures', () => {
  const event = { event_id: 'e1', event_type: 'batch.success', timestamp: Date.now() / 1000, data: { id: 'bat-1', status: 'COMPLETED' } };
  const sign = (raw: string, secret = SECRET) => ({ 'lc-signature': `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}` });

  it('accepts JSON and JSON-string bodies signed over the raw bytes', () => {
    const raw = JSON.stringify(event);
    expect(parseLlamaWebhook(sign(raw), raw, SECRET)).toEqual({ kind: 'job', eventId: 'e1', jobId: 'bat-1', state: 'success' });
    const stringBody = JSON.stringify(raw);
    expect(parseLlamaWebhook(sign(stringBody), stringBody, SECRET)).toEqual({ kind: 'job', eventId: 'e1', jobId: 'bat-1', state: 'success' });
  });

  it('ignores progress events and rejects bad signatures', () => {
    const running = JSON.stringify({ ...event, event_type: 'batch.running' });
    expect(parseLlamaWebhook(sign(running), running, SECRET)).toBeUndefined();
    const raw = JSON.stringify(event);
    expect(verifyLlamaSignature(raw + ' ', sign(raw), SECRET)).toBe(false);
    expect(verifyLlamaSignature(raw, sign(raw, 'other'), SECRET)).toBe(false);
    expect(verifyLlamaSignature(raw, {}, SECRET)).toBe(false);
    expect(() => parseLlamaWebhook({ 'lc-signature': 'sha1=00' }, raw, SECRET)).toThrow(WebhookRejected);
  });

  it('refuses a signed body sent outside the replay window, and takes one without a send time', () => {
    const at = (timestamp: number | undefined) => JSON.stringify({ ...event, timestamp });
    const now = event.timestamp;
    const stale = at(now - 301);
    expect(() => parseLlamaWebhook(sign(stale), stale, SECRET, now)).toThrow(expect.objectContaining({ status: 401, message: expect.stringMatching(/stale/) }));
    const ahead = at(now + 61);
    expect(() => parseLlamaWebhook(sign(ahead), ahead, SECRET, now)).toThrow(expect.objectContaining({ status: 401 }));
    const retried = at(now - 290);
    expect(parseLlamaWebhook(sign(retried), retried, SECRET, now)).toMatchObject({ kind: 'job', eventId: 'e1' });
    const undated = at(undefined);
    expect(parseLlamaWebhook(sign(undated), undated, SECRET, now)).toMatchObject({ kind: 'job', eventId: 'e1' });
  });

  it.each([
    ['not JSON', '{"event_id":'],
    ['no event id', JSON.stringify({ ...event, event_id: undefined })],
    ['no batch id', JSON.stringify({ ...event, data: {} })],
  ])('answers 400 to a signed but malformed body: %s', (_label, bad) => {
    expect(() => parseLlamaWebhook(sign(bad), bad, SECRET)).toThrow(expect.objectContaining({ status: 400 }));
  });
});

describe('the deployed webhook parser of each target', () => {
  it('verifies LlamaCloud with the signing secret given to its batches', () => {
    const raw = JSON.stringify({ event_id: 'e9', event_type: 'batch.error', data: { id: 'bat-9' } });
    const parse = webhookParserFor('llamacloud', 'lc-secret');
    const signedWith = (secret: string) => ({ 'lc-signature': `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}` });
    expect(parse(signedWith('lc-secret'), raw)).toEqual({ kind: 'job', eventId: 'e9', jobId: 'bat-9', state: 'error' });
    expect(() => parse(signedWith('other'), raw)).toThrow(expect.objectContaining({ status: 401 }));
    expect(() => webhookParserFor('llamacloud')).toThrow(/no LlamaCloud webhook signing secret/);
  });

  it('verifies Extend with the endpoint signing secret, and refuses to run without one', () => {
    const raw = JSON.stringify({ eventId: 'evt_2', eventType: 'batch_processor_run.failed', payload: { id: 'bpr_2', status: 'FAILED' } });
    const now = Math.floor(Date.now() / 1000);
    expect(webhookParserFor('extend', SECRET)(extendHeaders(raw, now), raw)).toMatchObject({ jobId: 'bpr_2' });
    expect(() => webhookParserFor('extend', SECRET)(extendHeaders(raw, now, 'wss_other'), raw)).toThrow(expect.objectContaining({ status: 401 }));
    expect(() => webhookParserFor('extend')).toThrow(/no Extend webhook signing secret/);
  });

  it('parses Roboflow notifications with no signature (the path token authenticates them)', () => {
    const raw = JSON.stringify({ type: 'roboflow-batch-job-notification-v1', event_id: 'e3', job_id: 'bb-1', job_state: 'success', delivery_attempt: 1 });
    expect(webhookParserFor('roboflow')({ authorization: 'Bearer rf_ws1' }, raw)).toEqual({ kind: 'job', eventId: 'e3', jobId: 'bb-1', state: 'success' });
  });
});

describe('multipartStream', () => {
  it('streams fields then the file between boundaries', async () => {
    const { body, contentType } = multipartStream(
      { display_name: 'a.pdf', skipped: undefined, metadata: '{"key":"in/a.pdf"}' },
      { field: 'upload_file', fileName: 'a"b.pdf', body: Readable.from([Buffer.from('%PDF-'), Buffer.from('1.7')]) },
    );
    const boundary = /boundary=(.+)$/.exec(contentType)![1]!;
    const out = await text(body);
    expect(out).toBe(
      `--${boundary}\r\nContent-Disposition: form-data; name="display_name"\r\n\r\na.pdf\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{"key":"in/a.pdf"}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="upload_file"; filename="a_b.pdf"\r\nContent-Type: application/octet-stream\r\n\r\n` +
        `%PDF-1.7\r\n--${boundary}--\r\n`,
    );
  });
});
