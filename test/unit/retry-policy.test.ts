import { describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  RETRYABLE_STATUSES,
  retryDelayMs,
  sleep,
  type RetryPolicy,
} from '../../shared/http/retry-policy';

const policy: RetryPolicy = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 60_000 };
/** A whole second, so HTTP dates (second precision) round-trip exactly. */
const NOW = Date.UTC(2030, 0, 15, 12, 0, 0);

describe('RETRYABLE_STATUSES / DEFAULT_RETRY_POLICY', () => {
  it('retries exactly 408, 429, 502, 503, 504 (not 500 or other 4xx)', () => {
    expect([...RETRYABLE_STATUSES].sort()).toEqual([408, 429, 502, 503, 504]);
    for (const status of [400, 401, 402, 404, 409, 500]) expect(RETRYABLE_STATUSES.has(status)).toBe(false);
  });

  it('default policy is bounded and waits at least 120 s for Retry-After', () => {
    expect(DEFAULT_RETRY_POLICY.maxAttempts).toBeGreaterThan(1);
    expect(DEFAULT_RETRY_POLICY.baseDelayMs).toBeGreaterThan(0);
    expect(DEFAULT_RETRY_POLICY.maxDelayMs).toBeGreaterThanOrEqual(DEFAULT_RETRY_POLICY.baseDelayMs);
    expect(DEFAULT_RETRY_POLICY.maxRetryAfterMs).toBeGreaterThanOrEqual(DEFAULT_RETRY_POLICY.maxDelayMs);
  });
});

describe('retryDelayMs: exponential backoff with full jitter', () => {
  const ceilings = [100, 200, 400, 800, 1_000, 1_000, 1_000]; // min(max, base * 2^(n-1)) for n = 1..7

  it('is 0 when the injected random is 0', () => {
    for (let attempt = 1; attempt <= 7; attempt++) expect(retryDelayMs(policy, attempt, undefined, () => 0, NOW)).toBe(0);
  });

  it('reaches min(maxDelayMs, base * 2^(attempt-1)) at the top of the random range', () => {
    ceilings.forEach((ceiling, i) => {
      expect(retryDelayMs(policy, i + 1, undefined, () => 1, NOW)).toBe(ceiling);
      expect(retryDelayMs(policy, i + 1, undefined, () => 0.999999, NOW)).toBe(ceiling);
    });
  });

  it('scales linearly with the random value (full jitter, not equal jitter)', () => {
    ceilings.forEach((ceiling, i) => {
      expect(retryDelayMs(policy, i + 1, undefined, () => 0.5, NOW)).toBe(Math.round(ceiling / 2));
      expect(retryDelayMs(policy, i + 1, undefined, () => 0.25, NOW)).toBe(Math.round(ceiling / 4));
    });
  });

  it('stays within [0, ceiling] for many random draws and never exceeds maxDelayMs for huge attempts', () => {
    let seed = 42;
    const lcg = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (let attempt = 1; attempt <= 40; attempt++) {
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      for (let i = 0; i < 50; i++) {
        const d = retryDelayMs(policy, attempt, undefined, lcg, NOW);
        expect(Number.isInteger(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(ceiling);
      }
    }
    expect(retryDelayMs(policy, 1_000, undefined, () => 1, NOW)).toBe(policy.maxDelayMs);
  });

  it('uses the injected random (one draw per delay)', () => {
    const random = vi.fn(() => 0.5);
    retryDelayMs(policy, 3, null, random, NOW);
    expect(random).toHaveBeenCalledTimes(1);
  });

  it('ignores a garbage Retry-After and falls back to backoff', () => {
    expect(retryDelayMs(policy, 2, 'soon', () => 1, NOW)).toBe(200);
    expect(retryDelayMs(policy, 2, '', () => 1, NOW)).toBe(200);
  });
});

describe('retryDelayMs: Retry-After', () => {
  it('delta-seconds wins over backoff, without drawing a random number', () => {
    const random = vi.fn(() => 0.5);
    expect(retryDelayMs(policy, 1, '5', random, NOW)).toBe(5_000);
    expect(retryDelayMs(policy, 7, '0', random, NOW)).toBe(0);
    expect(random).not.toHaveBeenCalled();
  });

  it('an HTTP date is converted to the time remaining from now', () => {
    const in30s = new Date(NOW + 30_000).toUTCString();
    expect(in30s).toMatch(/GMT$/);
    expect(retryDelayMs(policy, 1, in30s, () => 0, NOW)).toBe(30_000);
  });

  it('an HTTP date in the past means retry now', () => {
    expect(retryDelayMs(policy, 4, new Date(NOW - 60_000).toUTCString(), () => 1, NOW)).toBe(0);
  });

  it('is capped at maxRetryAfterMs (seconds and dates)', () => {
    expect(retryDelayMs(policy, 1, '3600', () => 0, NOW)).toBe(60_000);
    expect(retryDelayMs(policy, 1, '60', () => 0, NOW)).toBe(60_000);
    expect(retryDelayMs(policy, 1, '59', () => 0, NOW)).toBe(59_000);
    expect(retryDelayMs(policy, 1, new Date(NOW + 86_400_000).toUTCString(), () => 0, NOW)).toBe(60_000);
    expect(retryDelayMs({ ...policy, maxRetryAfterMs: 20 }, 1, '1', () => 0, NOW)).toBe(20);
  });
});

describe('parseRetryAfter', () => {
  it('parses delta-seconds (surrounding whitespace tolerated)', () => {
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter('7', NOW)).toBe(7_000);
    expect(parseRetryAfter(' 120 ', NOW)).toBe(120_000);
  });

  it('parses IMF-fixdate and RFC 850 HTTP dates', () => {
    const target = new Date(NOW + 90_000); // 2030-01-15T12:01:30Z, a Tuesday
    expect(parseRetryAfter(target.toUTCString(), NOW)).toBe(90_000);
    expect(parseRetryAfter('Tue, 15 Jan 2030 12:01:30 GMT', NOW)).toBe(90_000);
    expect(parseRetryAfter('Tuesday, 15-Jan-30 12:01:30 GMT', NOW)).toBe(90_000);
  });

  it('returns undefined when there is nothing', () => {
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
    expect(parseRetryAfter(null, NOW)).toBeUndefined();
    expect(parseRetryAfter('', NOW)).toBeUndefined();
    expect(parseRetryAfter('   ', NOW)).toBeUndefined();
  });

  it.each(['soon', 'abc', '12abc', '1e3', '0x10', 'Infinity', 'NaN', '1.5', '-1', '+5', '1 2', '5s'])(
    'returns undefined for garbage %j',
    (value) => {
      expect(parseRetryAfter(value, NOW)).toBeUndefined();
    },
  );
});

describe('sleep', () => {
  it('resolves after roughly the requested time', async () => {
    const started = performance.now();
    await sleep(30);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(25);
    expect(elapsed).toBeLessThan(2_000);
  });
});
