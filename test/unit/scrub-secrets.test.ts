import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { errorMessage, RemoteError } from '../../shared/errors';
import { jsonLogger } from '../../shared/log';
import { parseRoboflowWebhook } from '../../shared/targets/roboflow/webhook';
import {
  MIN_SECRET_CHARS,
  REDACTED,
  REMOTE_TEXT_MAX_CHARS,
  RemoteText,
  RemoteValue,
  SecretRegistry,
  registerSecrets,
  scrubRemoteText,
  scrubSecrets,
} from '../../shared/scrub-secrets';

const registry = (...secrets: string[]) => {
  const r = new SecretRegistry();
  r.add(...secrets);
  return r;
};

describe('scrubSecrets: registered secrets', () => {
  const secret = 'tok/en+with=odd chars_0123';
  const r = registry(secret);

  it.each([
    ['as is', secret],
    ['percent-encoded', encodeURIComponent(secret)],
    ['percent-encoded, lower-case hex', encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())],
    ['form-encoded (+ for space)', new URLSearchParams({ s: secret }).toString().slice(2)],
    ['percent-encoded twice', encodeURIComponent(encodeURIComponent(secret))],
    ['JSON-escaped slashes', secret.replace(/\//g, '\\/')],
    ['JSON inside a JSON string', JSON.stringify(JSON.stringify({ s: secret.replace(/\//g, '\\/') })).slice(1, -1)],
    ['\\u-escaped', secret.replace(/[^A-Za-z0-9]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)],
  ])('%s', (_form, encoded) => {
    const out = scrubSecrets(`before ${encoded} after`, { registry: r });
    expect(out).toContain(REDACTED);
    expect(out).toMatch(/^before .*\[redacted\].* after$/);
    expect(out).not.toContain('0123');
    expect(out).not.toContain('odd');
  });

  it('overlapping secrets leave nothing of either, whichever is longer', () => {
    const a = 'abcdefgh12345678';
    const b = '12345678ijklmnop';
    const inner = 'cdefgh1234';
    const out = scrubSecrets(`x ${a.slice(0, 8)}${b} y ${a}ijklmnop z ${inner}`, { registry: registry(a, b, inner) });
    expect(out).toBe(`x ${REDACTED} y ${REDACTED} z ${REDACTED}`);
  });

  it('a secret overlapping its own next occurrence is removed whole', () => {
    expect(scrubSecrets('<abababababab>', { registry: registry('abababab') })).toBe(`<${REDACTED}>`);
  });

  it(`values shorter than ${MIN_SECRET_CHARS} characters or empty are not registered: ordinary words stay`, () => {
    const r2 = registry('ek', '', '   ', 'week');
    expect(r2.patterns()).toHaveLength(0);
    expect(scrubSecrets('one week of work', { registry: r2 })).toBe('one week of work');
  });

  it('secrets known only to the caller are scrubbed too', () => {
    expect(scrubSecrets('key my-own-api-key here', { registry: registry(), also: ['my-own-api-key', undefined] })).toBe(`key ${REDACTED} here`);
  });
});

describe('scrubSecrets: credential-shaped values nobody registered', () => {
  const r = registry();
  const scrub = (text: string) => scrubSecrets(text, { registry: r });
  const sig = 'a'.repeat(16) + '0123456789abcdef'.repeat(3);
  const sigV4 = `https://b.s3.amazonaws.com/k.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-Expires=3600&X-Amz-Security-Token=FwoGZXIvYXdzEJr&X-Amz-SignedHeaders=host&X-Amz-Signature=${sig}`;

  it('a SigV4 URL keeps its path and public parameters, not its signature, credential or session token', () => {
    const out = scrub(`fetch of ${sigV4} failed`);
    expect(out).toContain('https://b.s3.amazonaws.com/k.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=[redacted]&X-Amz-Date=20240101T000000Z');
    expect(out).toContain(`X-Amz-Signature=${REDACTED} failed`);
    for (const leaked of [sig.slice(20), 'AKIAIOSFODNN7EXAMPLE', 'FwoGZXIvYXdzEJr']) expect(out).not.toContain(leaked);
  });

  it.each([
    ['GCS V4', `https://storage.googleapis.com/b/k?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=sa%40p.iam.gserviceaccount.com%2F20240101&X-Goog-Signature=${sig}`, ['sa%40p.iam', sig]],
    ['S3 SigV2', `https://b.s3.amazonaws.com/k?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1700000000&Signature=abc%2Bdef%3D`, ['AKIAIOSFODNN7EXAMPLE', 'abc%2Bdef']],
    ['GCS V2', `https://storage.googleapis.com/b/k?GoogleAccessId=sa@p.iam.gserviceaccount.com&Expires=1&Signature=xyz%2F123`, ['sa@p.iam', 'xyz%2F123']],
    ['Azure SAS', `https://a.blob.core.windows.net/c/k?sv=2022-11-02&se=2024-01-01&sig=AbC%2Bdef%3D`, ['AbC%2Bdef']],
    ['token and api_key', `https://api.example.com/x?token=tok_live_123&api_key=key_live_456&page=2`, ['tok_live_123', 'key_live_456']],
  ])('%s', (_kind, url, leaks) => {
    const out = scrub(`GET ${url}`);
    for (const leaked of leaks) expect(out).not.toContain(leaked);
    expect(out).toMatch(/^GET https:\/\/[^?]+\?/);
  });

  it('escaped and encoded forms inside a JSON-quoted message (Go escapes &, a URL inside a URL is encoded)', () => {
    const goEscaped = JSON.stringify({ imageReferencesURL: sigV4 }).replace(/&/g, '\\u0026');
    const quoted = JSON.stringify({ error: `invalid body ${goEscaped}` });
    const nested = `callback=${encodeURIComponent(sigV4)}`;
    for (const text of [goEscaped, quoted, JSON.parse(quoted).error as string, nested, encodeURIComponent(nested)]) {
      const out = scrub(text);
      expect(out, text).not.toContain(sig.slice(20));
      expect(out, text).not.toContain('AKIAIOSFODNN7EXAMPLE');
      expect(out, text).toMatch(/X-Amz-Signature(=|%3D|%253D|\\u003d)/i);
    }
  });

  it('JSON fields named like credentials, Authorization values, and webhook path tokens', () => {
    const body = JSON.stringify({ webhook_url: 'https://h/webhooks/AbCdEfGhIjKlMnOpQrStUv', webhook_signing_secret: 'whsec-1234567890', api_key: 'k-1234567890', name: 'kept' });
    const out = scrub(`refused ${body} and ${JSON.stringify(body)} with Authorization: Bearer sk-live-abcdefghijkl`);
    for (const leaked of ['AbCdEfGhIjKlMnOpQrStUv', 'whsec-1234567890', 'k-1234567890', 'sk-live-abcdefghijkl']) expect(out).not.toContain(leaked);
    expect(out).toContain('"name":"kept"');
    expect(out).toContain('/webhooks/[redacted]');
    expect(out).toContain('Bearer [redacted]');
  });

  it('leaves ordinary messages alone', () => {
    const text = 'HTTP 400: invalid request: field "ingestId" must match ^[a-z0-9-]+$ (see https://docs.example.com/errors?code=42)';
    expect(scrub(text)).toBe(text);
  });
});

describe('scrubRemoteText: bounded', () => {
  const secret = 'Sup3rSecretToken_abcdefghijklmnop';
  const r = registry(secret);

  it(`cuts to ${REMOTE_TEXT_MAX_CHARS} characters and says how much was cut`, () => {
    const out = scrubRemoteText('x'.repeat(1_000_000), { registry: r });
    expect(out.length).toBeLessThanOrEqual(REMOTE_TEXT_MAX_CHARS);
    expect(out).toMatch(/^x+… \[\d+ more characters\]$/);
    const cut = Number(/\[(\d+) more/.exec(out)![1]);
    expect(out.indexOf('…') + cut).toBe(1_000_000);
  });

  it('scrubs before it cuts: a secret across the cut leaves no prefix, one far past it nothing at all', () => {
    for (let at = REMOTE_TEXT_MAX_CHARS - 40; at < REMOTE_TEXT_MAX_CHARS + 5; at++) {
      const out = scrubRemoteText(`${'y'.repeat(at)}${secret}${'z'.repeat(100_000)}${secret}`, { registry: r });
      expect(out.length).toBeLessThanOrEqual(REMOTE_TEXT_MAX_CHARS);
      expect(out).not.toContain(secret.slice(0, 6));
      expect(out).not.toMatch(/X-Amz|Sup3r/);
    }
    const sigCut = scrubRemoteText(`${'y'.repeat(REMOTE_TEXT_MAX_CHARS - 60)}?X-Amz-Signature=${'f'.repeat(64)}`, { registry: r });
    expect(sigCut).not.toMatch(/f{4}/);
  });

  it('short messages are kept whole; control characters and ANSI escapes become spaces', () => {
    expect(scrubRemoteText('fine', { registry: r })).toBe('fine');
    expect(scrubRemoteText('a\u001b[31mred\rb\u0000c', { registry: r })).toBe('a [31mred b c');
  });

  it('never splits a surrogate pair', () => {
    const out = scrubRemoteText('😀'.repeat(1000), { registry: r });
    expect(out.length).toBeLessThanOrEqual(REMOTE_TEXT_MAX_CHARS);
    expect(() => encodeURIComponent(out)).not.toThrow();
  });
});

describe('where remote text enters and leaves', () => {
  const secret = `registered-${Math.random().toString(36).slice(2)}-secret`;
  registerSecrets(secret);

  it('RemoteText and RemoteValue scrub and bound what a schema parses', () => {
    const Schema = z.object({ message: RemoteText, detail: RemoteValue });
    const parsed = Schema.parse({ message: `no ${secret} ${'m'.repeat(5000)}`, detail: { nested: [{ reason: `bad ${secret}` }], code: 7 } });
    expect(parsed.message).not.toContain(secret);
    expect(parsed.message.length).toBeLessThanOrEqual(REMOTE_TEXT_MAX_CHARS);
    expect(parsed.detail).toEqual({ nested: [{ reason: `bad ${REDACTED}` }], code: 7 });
  });

  it('a Roboflow webhook\'s failure reasons are scrubbed and bounded as they are parsed', () => {
    const url = `https://b.s3.amazonaws.com/a.jpg?X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20240101&X-Amz-Signature=${'e'.repeat(64)}`;
    const body = {
      type: 'roboflow-data-staging-notification-v1',
      event_id: 'e1',
      ingest_id: 'i1',
      batch_id: 'b1',
      delivery_attempt: 1,
      notification: {
        type: 'ingest-files-status-notification-v1',
        success: false,
        failed_files: [{ type: 'file-download-failed', file_name: 'a', reason: `GET ${url} for ${secret} failed: ${'r'.repeat(5000)}` }],
      },
    };
    const event = parseRoboflowWebhook({ authorization: 'Bearer rf_ws1' }, JSON.stringify(body));
    if (event.kind !== 'files-status') throw new Error(`unexpected ${event.kind}`);
    const [failed] = event.failed;
    expect(failed!.reason).toMatch(/^GET https:\/\/b\.s3\.amazonaws\.com\/a\.jpg\?X-Amz-Credential=\[redacted\]&X-Amz-Signature=\[redacted\] for \[redacted\] failed: r+/);
    expect(failed!.reason.length).toBeLessThanOrEqual(REMOTE_TEXT_MAX_CHARS);
  });

  it('a RemoteError built anywhere, and any error turned into text, carry no registered secret', () => {
    expect(new RemoteError(`download of https://h/x?sig=${secret} failed`).message).toBe(`download of https://h/x?sig=${REDACTED} failed`);
    expect(errorMessage(new Error(`SDK said ${secret}`))).toBe(`SDK said ${REDACTED}`);
    expect(errorMessage(`thrown string ${encodeURIComponent(secret)}`)).toBe(`thrown string ${REDACTED}`);
  });

  it('the logger scrubs message and fields, nested ones too, whatever its caller passed', () => {
    const lines: string[] = [];
    const log = jsonLogger('debug', (line) => lines.push(line));
    log.error(`failed with ${secret}`, { error: `remote said ${secret}`, nested: { list: [secret] }, url: `https://h/x?sig=${secret}`, count: 3 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(secret);
    expect(JSON.parse(lines[0]!)).toMatchObject({ message: `failed with ${REDACTED}`, error: `remote said ${REDACTED}`, nested: { list: [REDACTED] }, count: 3 });
  });
});
