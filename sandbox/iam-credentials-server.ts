import { createPrivateKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake IAM Credentials API on loopback: `POST /v1/projects/-/serviceAccounts/{email}:signBlob`
 * with `{"payload": base64}` and `Authorization: Bearer <token>` → `{"keyId","signedBlob"}`, signed
 * RSA-SHA256 with the service account's private key, as Google's own endpoint does. It can delay
 * answers (to observe concurrency), script throttling (429 with or without Retry-After) and
 * server errors, and counts calls and the most calls it had in flight at once.
 *
 * It also plays the STS token exchange of workload identity federation (`POST /v1/token`, form
 * `grant_type=urn:ietf:params:oauth:grant-type:token-exchange&subject_token=…`): any subject
 * token is exchanged for the accepted bearer token, and recorded (`subjectTokens`).
 */
export interface FakeIamCredentials {
  url: string;
  /** Accepts signBlob calls for this account, signing with its key. */
  addServiceAccount(email: string, privateKeyPem: string): void;
  /** Bearer tokens accepted (others get 401). */
  token: string;
  setDelayMs(ms: number): void;
  /** The next `count` calls answer `status` (with `Retry-After: retryAfter` when given). */
  fail(status: number, count: number, retryAfter?: string): void;
  clearFaults(): void;
  calls: Array<{ email: string; status: number; at: number }>;
  /** Subject tokens exchanged at `/v1/token` (e.g. a signed AWS GetCallerIdentity request). */
  subjectTokens: string[];
  maxInFlight(): number;
  resetStats(): void;
  close(): Promise<void>;
}

export async function startFakeIamCredentials(options: { token?: string; delayMs?: number } = {}): Promise<FakeIamCredentials> {
  const accounts = new Map<string, { key: KeyObject; keyId: string }>();
  const token = options.token ?? `ya29.local-${randomBytes(16).toString('hex')}`;
  let delayMs = options.delayMs ?? 0;
  const faults: Array<{ status: number; count: number; retryAfter?: string }> = [];
  const calls: FakeIamCredentials['calls'] = [];
  const subjectTokens: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;

  const server: Server = createServer(async (req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let email = '';
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      inFlight--;
      calls.push({ email, status, at: Date.now() });
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers }).end(JSON.stringify(body));
    };
    const error = (status: number, message: string, reason: string, headers?: Record<string, string>) =>
      reply(status, { error: { code: status, message, status: reason } }, headers);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'POST' && path === '/v1/token') {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:token-exchange' || !form.get('subject_token')) {
        inFlight--;
        res.writeHead(400, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ error: 'invalid_request', error_description: 'invalid token exchange' }));
      }
      subjectTokens.push(form.get('subject_token')!);
      inFlight--; // not a signBlob call: neither counted nor in `calls`
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ access_token: token, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', expires_in: 3600 }));
    }
    const m = /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):signBlob$/.exec(path);
    email = m ? decodeURIComponent(m[1]!) : '';
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (req.method !== 'POST' || !m) return error(404, 'not found', 'NOT_FOUND');
    if (req.headers.authorization !== `Bearer ${token}`) {
      return error(401, 'Request had invalid authentication credentials.', 'UNAUTHENTICATED');
    }
    const fault = faults.find((f) => f.count > 0);
    if (fault) {
      fault.count--;
      const status = fault.status === 429 ? 'RESOURCE_EXHAUSTED' : 'UNAVAILABLE';
      return error(fault.status, `scripted ${fault.status}`, status, fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter });
    }
    const account = accounts.get(email);
    if (!account) {
      return error(403, `Permission 'iam.serviceAccounts.signBlob' denied on resource (or it may not exist).`, 'PERMISSION_DENIED');
    }
    let payload: string | undefined;
    try {
      payload = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { payload?: string }).payload;
    } catch {
      // handled below
    }
    if (typeof payload !== 'string' || payload === '') return error(400, 'payload is required', 'INVALID_ARGUMENT');
    const signedBlob = sign('RSA-SHA256', Buffer.from(payload, 'base64'), account.key).toString('base64');
    reply(200, { keyId: account.keyId, signedBlob });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token,
    addServiceAccount: (email, pem) => void accounts.set(email, { key: createPrivateKey(pem), keyId: randomBytes(20).toString('hex') }),
    setDelayMs: (ms) => void (delayMs = ms),
    fail: (status, count, retryAfter) => void faults.push({ status, count, retryAfter }),
    clearFaults: () => void faults.splice(0),
    calls,
    subjectTokens,
    maxInFlight: () => maxInFlight,
    resetStats: () => {
      calls.length = 0;
      maxInFlight = inFlight;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
