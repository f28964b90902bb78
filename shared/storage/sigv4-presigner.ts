import { createHmac, hash } from 'node:crypto';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/**
 * A fast SigV4 query signer for S3 GetObject URLs, byte-identical to
 * `getSignedUrl(client, new GetObjectCommand({ Bucket, Key }), { expiresIn })`.
 *
 * How it stays identical: the first URL for a bucket is not computed, it is learnt. The SDK signs
 * two probe keys (one plain, one with every character class the SDK escapes); their URLs give the
 * endpoint (scheme, host and port, path-style or virtual-hosted, base path), the signing region
 * and service, and the constant query parameters the SDK adds (`X-Amz-Content-Sha256`,
 * `x-amz-checksum-mode`, `x-id`, ...). The fast signer then signs the same probe keys itself and
 * must reproduce both URLs exactly; if anything differs, or the URL has a shape it does not know
 * (another algorithm, signed headers beyond `host`, S3 Express session tokens, unknown
 * parameters), the bucket stays on `getSignedUrl` for good.
 *
 * What it caches: per bucket the learnt template; per credentials/day/region/service the SigV4
 * signing key (the HMAC chain date → region → service → aws4_request, derived once, not per URL);
 * per credentials/second/lifetime the canonical query and the URL's query around the signature.
 * Per URL it only escapes the key, hashes the canonical request and computes one HMAC.
 *
 * Credentials are resolved through the client's own provider on every call (the SDK memoizes it
 * and refreshes expiring credentials), so a refresh is picked up exactly when `getSignedUrl`
 * would pick it up.
 *
 * Handled: AWS regional and global endpoints, virtual-hosted and path-style addressing (including
 * the SDK's own switch to path-style for bucket names that are not DNS-compatible), custom
 * endpoints (http or https, any port, with a base path), static and session credentials,
 * credential providers, requester-pays buckets, any checksum setting. Falls back to
 * `getSignedUrl` (loaded on first use only): FIPS, dual-stack and
 * transfer-acceleration endpoints, ARN buckets (access points, Outposts, Object Lambda,
 * multi-region access points / SigV4a), S3 Express directory buckets (`--x-s3`), a lifetime that is
 * not a whole number of seconds in 1..604800, keys that cannot be URI-encoded (lone surrogates),
 * clients without an endpoint provider, and any probe the fast signer cannot reproduce (e.g. a
 * custom middleware that signs extra headers).
 */

export interface SigningKeyDerivation {
  date: string;
  region: string;
  service: string;
  accessKeyId: string;
}

export interface SigV4PresignerOptions {
  /** Signing clock when no signing date is passed (default: the system clock, like the SDK). */
  now?: () => Date;
  /** Called every time a signing key is derived (the HMAC chain); for tests and diagnostics. */
  onSigningKey?: (derivation: SigningKeyDerivation) => void;
}

export type PresignerMode = { fast: true } | { fast: false; reason: string };

interface Identity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Everything about a bucket's URLs that does not depend on the key, the credentials or the time. */
interface Template {
  /** `https://host[:port]`, as the SDK prints it. */
  origin: string;
  /** Value of the signed `host` header. */
  host: string;
  /** Path up to the key: `/` (virtual-hosted) or `/<bucket>/`, after any base path. */
  pathPrefix: string;
  region: string;
  service: string;
  /** Constant query parameters the SDK adds (raw name and value). */
  fixed: Array<[string, string]>;
  /** The last query parts built, reused while credentials, second and lifetime stay the same. */
  parts?: QueryParts;
}

interface QueryParts {
  identity: Identity;
  /** The signing time's epoch second (the URL's X-Amz-Date). */
  second: number;
  expiresIn: number;
  signingKey: Buffer;
  canonicalQuery: string;
  /** URL query before and after the signature value. */
  urlHead: string;
  urlTail: string;
  /** String to sign up to the canonical request hash. */
  stsPrefix: string;
  /** The canonical request after the path. */
  canonicalTail: string;
}

type Resolved = { template: Template } | { unsupported: string };

export interface GetObjectUrlOptions {
  /** Requester-pays buckets: signs `x-amz-request-payer=requester` into the URL, as the SDK does. */
  requestPayer?: 'requester';
  /** Signing time (default: the presigner's clock). */
  signingDate?: Date;
}

/** What a template depends on besides the client: the bucket and the request-payer setting. */
interface Target {
  bucket: string;
  requestPayer?: 'requester';
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const MAX_EXPIRES = 7 * 24 * 60 * 60;
/** Parameters the signer computes; every other parameter of the probe must be a known constant. */
const COMPUTED = new Set(['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-Security-Token', 'X-Amz-Signature', 'X-Amz-SignedHeaders']);
const KNOWN_CONSTANTS = new Set(['X-Amz-Content-Sha256', 'x-amz-checksum-mode', 'x-amz-request-payer', 'x-id']);
/** Two probes: a plain key, and one with every character class the path encoding treats specially. */
const PROBE_KEYS = ['bucket-bridge-probe.jpg', "/Ünï cødé//a+b%2F~*'()!&=?#;:@$,[]{}^`|\\\"<>\u{1F600}/end/"];
const SAFE_KEY = /^[A-Za-z0-9\-._~/]*$/;

/** The SDK's path escaping for `{Key+}`: each segment with extendedEncodeURIComponent, '/' kept. */
export function encodeKeyPath(key: string): string {
  if (SAFE_KEY.test(key)) return key;
  return encodeURIComponent(key).replace(/%2F/g, '/').replace(/[!'()*]/g, hexEscape);
}

/** The SDK's query escaping (escapeUri): encodeURIComponent plus !'()*. */
function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, hexEscape);
}

function hexEscape(c: string): string {
  return `%${c.charCodeAt(0).toString(16).toUpperCase()}`;
}

export class SigV4Presigner {
  private readonly resolved = new Map<string, Resolved>();
  private readonly pending = new Map<string, Promise<Resolved>>();
  /** Signing keys by date/region/service/credentials; a handful at most (one per day in practice). */
  private readonly keys = new Map<string, Buffer>();

  constructor(
    private readonly client: S3Client,
    private readonly options: SigV4PresignerOptions = {},
  ) {}

  /** Whether URLs for this bucket are signed by the fast path, or why not. */
  async mode(bucket: string, options: Pick<GetObjectUrlOptions, 'requestPayer'> = {}): Promise<PresignerMode> {
    const r = await this.resolve({ bucket, requestPayer: options.requestPayer });
    return 'template' in r ? { fast: true } : { fast: false, reason: r.unsupported };
  }

  /** A presigned GetObject URL, identical to `getSignedUrl`'s for the same inputs. */
  async presignGetObject(bucket: string, key: string, expiresIn: number, options: GetObjectUrlOptions = {}): Promise<string> {
    const { signingDate, requestPayer } = options;
    const target: Target = { bucket, requestPayer };
    const r = this.resolved.get(targetId(target)) ?? (await this.resolve(target));
    if (!('template' in r) || !Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_EXPIRES) {
      return this.reference(target, key, expiresIn, signingDate);
    }
    let path: string;
    try {
      path = r.template.pathPrefix + encodeKeyPath(key);
    } catch {
      // encodeURIComponent refuses lone surrogates; let the SDK produce its own error.
      return this.reference(target, key, expiresIn, signingDate);
    }
    const identity = (await this.client.config.credentials()) as Identity;
    if (typeof identity?.accessKeyId !== 'string' || typeof identity.secretAccessKey !== 'string') {
      return this.reference(target, key, expiresIn, signingDate);
    }
    return this.sign(r.template, path, identity, signingDate ?? this.options.now?.() ?? new Date(), expiresIn);
  }

  /** The SDK's own presigner; loaded on first use, so functions that never sign a URL never load it. */
  private async reference({ bucket, requestPayer }: Target, key: string, expiresIn: number, signingDate?: Date): Promise<string> {
    const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: bucket, Key: key, RequestPayer: requestPayer }), {
      expiresIn,
      signingDate: signingDate ?? this.options.now?.(),
    });
  }

  private sign(t: Template, path: string, identity: Identity, date: Date, expiresIn: number): string {
    const q = this.queryParts(t, identity, date, expiresIn);
    // The one-shot hash: no Hash object per URL (about half the time of createHash at this size).
    const hashed = hash('sha256', `GET\n${path}\n${q.canonicalTail}`, 'hex');
    const signature = createHmac('sha256', q.signingKey).update(q.stsPrefix + hashed).digest('hex');
    return `${t.origin}${path}?${q.urlHead}${signature}${q.urlTail}`;
  }

  private queryParts(t: Template, identity: Identity, date: Date, expiresIn: number): QueryParts {
    // Compared by the epoch second, so a URL signed in the same second formats no date.
    const second = Math.floor(date.getTime() / 1000);
    const cached = t.parts;
    if (cached && cached.second === second && cached.expiresIn === expiresIn && sameIdentity(cached.identity, identity)) return cached;
    const longDate = date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');

    const shortDate = longDate.slice(0, 8);
    const scope = `${shortDate}/${t.region}/${t.service}/aws4_request`;
    const params: Array<[string, string]> = [
      ...t.fixed,
      ['X-Amz-Algorithm', ALGORITHM],
      ['X-Amz-Credential', `${identity.accessKeyId}/${scope}`],
      ['X-Amz-Date', longDate],
      ['X-Amz-Expires', expiresIn.toString(10)],
      ['X-Amz-SignedHeaders', 'host'],
    ];
    if (identity.sessionToken) params.push(['X-Amz-Security-Token', identity.sessionToken]);
    // The signer sorts by escaped name; the URL builder sorts by raw name (the same order for these names).
    const encoded = params.map(([k, v]) => [escapeUri(k), `${escapeUri(k)}=${escapeUri(v)}`] as const);
    const canonicalQuery = [...encoded]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, kv]) => kv)
      .join('&');
    const signatureSlot: [string, string] = ['X-Amz-Signature', '\0'];
    const url = [...params, signatureSlot]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => (v === '\0' ? `${escapeUri(k)}=\0` : `${escapeUri(k)}=${escapeUri(v)}`))
      .join('&');
    const [urlHead, urlTail] = url.split('\0') as [string, string];

    const parts: QueryParts = {
      identity,
      second,
      expiresIn,
      signingKey: this.signingKey(identity, shortDate, t.region, t.service),
      canonicalQuery,
      urlHead,
      urlTail,
      stsPrefix: `${ALGORITHM}\n${longDate}\n${scope}\n`,
      canonicalTail: `${canonicalQuery}\nhost:${t.host}\n\nhost\n${UNSIGNED_PAYLOAD}`,
    };
    t.parts = parts;
    return parts;
  }

  private signingKey(identity: Identity, date: string, region: string, service: string): Buffer {
    const id = `${date}\n${region}\n${service}\n${identity.accessKeyId}\n${identity.secretAccessKey}`;
    const known = this.keys.get(id);
    if (known) return known;
    let key: Buffer = createHmac('sha256', `AWS4${identity.secretAccessKey}`).update(date).digest();
    for (const part of [region, service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
    this.options.onSigningKey?.({ date, region, service, accessKeyId: identity.accessKeyId });
    if (this.keys.size >= 8) this.keys.delete(this.keys.keys().next().value!);
    this.keys.set(id, key);
    return key;
  }

  private resolve(target: Target): Promise<Resolved> {
    const id = targetId(target);
    let p = this.pending.get(id);
    if (!p) {
      p = this.learn(target).then(
        (r) => {
          this.resolved.set(id, r);
          return r;
        },
        (err: unknown) => {
          // A failed probe (e.g. credentials not available yet) is retried on the next call.
          this.pending.delete(id);
          throw err;
        },
      );
      this.pending.set(id, p);
    }
    return p;
  }

  /** Learns the bucket's URL template from the SDK and checks the fast signer reproduces it. */
  private async learn(target: Target): Promise<Resolved> {
    const unsupported = await unsupportedSetup(this.client, target.bucket);
    if (unsupported) return { unsupported };
    // Whole seconds, as the signer prints them; any fixed date works for the comparison.
    const date = new Date(Math.floor((this.options.now?.() ?? new Date()).getTime() / 1000) * 1000);
    for (let attempt = 0; ; attempt++) {
      const identity = (await this.client.config.credentials()) as Identity;
      const probes = await Promise.all(PROBE_KEYS.map((key) => this.reference(target, key, 900, date)));
      const parsed = parseProbe(probes[0]!, PROBE_KEYS[0]!);
      if (typeof parsed === 'string') return { unsupported: parsed };
      const { template, accessKeyId, sessionToken } = parsed;
      if (accessKeyId !== identity.accessKeyId || (sessionToken ?? '') !== (identity.sessionToken ?? '')) {
        // Credentials changed between the two resolutions (a refresh): probe again once.
        if (attempt === 0) continue;
        return { unsupported: 'credentials changed while probing' };
      }
      for (let i = 0; i < PROBE_KEYS.length; i++) {
        const mine = this.sign(template, template.pathPrefix + encodeKeyPath(PROBE_KEYS[i]!), identity, date, 900);
        if (mine !== probes[i]) return { unsupported: 'the SDK signs this client/bucket differently (probe mismatch)' };
      }
      template.parts = undefined;
      return { template };
    }
  }
}

function targetId({ bucket, requestPayer }: Target): string {
  return requestPayer ? `${bucket}\n${requestPayer}` : bucket;
}

function sameIdentity(a: Identity, b: Identity): boolean {
  return a === b || (a.accessKeyId === b.accessKeyId && a.secretAccessKey === b.secretAccessKey && a.sessionToken === b.sessionToken);
}

async function flag(value: unknown): Promise<boolean> {
  return Boolean(typeof value === 'function' ? await (value as () => unknown)() : value);
}

/** Setups the fast signer leaves to the SDK, by configuration alone (no probing needed). */
async function unsupportedSetup(client: S3Client, bucket: string): Promise<string | undefined> {
  const config = client.config as unknown as Record<string, unknown>;
  if (typeof config.endpointProvider !== 'function') return 'client without an endpoint provider';
  if (bucket.startsWith('arn:')) return 'ARN bucket (access point, Outposts, Object Lambda or multi-region access point)';
  if (/--x-s3$|--xa-s3$/.test(bucket)) return 'S3 Express directory bucket';
  if (await flag(config.useFipsEndpoint)) return 'FIPS endpoint';
  if (await flag(config.useDualstackEndpoint)) return 'dual-stack endpoint';
  if (await flag(config.useAccelerateEndpoint)) return 'transfer acceleration endpoint';
  return undefined;
}

/** Splits a probe URL into the template, or says why its shape is not one the fast signer knows. */
function parseProbe(url: string, probeKey: string): { template: Template; accessKeyId: string; sessionToken?: string } | string {
  const q = url.indexOf('?');
  const schemeEnd = url.indexOf('://');
  if (q < 0 || schemeEnd < 0) return 'unexpected URL shape';
  const pathStart = url.indexOf('/', schemeEnd + 3);
  if (pathStart < 0 || pathStart > q) return 'unexpected URL shape';
  const origin = url.slice(0, pathStart);
  const host = origin.slice(schemeEnd + 3);
  if (host.includes('@')) return 'endpoint with user info';
  const path = url.slice(pathStart, q);
  const encodedKey = encodeKeyPath(probeKey);
  if (!path.endsWith(encodedKey)) return 'key not at the end of the path';

  const params = new Map<string, string>();
  for (const pair of url.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=');
    if (eq < 0) return 'query parameter without a value';
    params.set(decodeURIComponent(pair.slice(0, eq)), decodeURIComponent(pair.slice(eq + 1)));
  }
  if (params.get('X-Amz-Algorithm') !== ALGORITHM) return `algorithm ${params.get('X-Amz-Algorithm')}`;
  if (params.get('X-Amz-SignedHeaders') !== 'host') return `signed headers ${params.get('X-Amz-SignedHeaders')}`;
  if (params.get('X-Amz-Content-Sha256') !== UNSIGNED_PAYLOAD) return 'payload hash is not UNSIGNED-PAYLOAD';
  const credential = params.get('X-Amz-Credential')?.split('/') ?? [];
  if (credential.length !== 5 || credential[4] !== 'aws4_request') return 'unexpected credential scope';
  const [accessKeyId, , region, service] = credential as [string, string, string, string, string];
  if (service !== 's3') return `signing service ${service}`;
  const fixed: Array<[string, string]> = [];
  for (const [k, v] of params) {
    if (COMPUTED.has(k)) continue;
    if (!KNOWN_CONSTANTS.has(k)) return `query parameter ${k}`;
    fixed.push([k, v]);
  }
  return {
    template: { origin, host, pathPrefix: path.slice(0, path.length - encodedKey.length), region, service, fixed },
    accessKeyId,
    sessionToken: params.get('X-Amz-Security-Token'),
  };
}

const shared = new WeakMap<S3Client, SigV4Presigner>();

/** One presigner per client, so every store on the client shares its templates and signing keys. */
export function presignerFor(client: S3Client): SigV4Presigner {
  let p = shared.get(client);
  if (!p) shared.set(client, (p = new SigV4Presigner(client)));
  return p;
}
