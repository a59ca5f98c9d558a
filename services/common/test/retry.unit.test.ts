import { describe, expect, it, vi } from 'vitest';
import { SporbarError } from '../src/errors.ts';
import { backoffDelay, retry } from '../src/retry.ts';

const unavailable = () => new SporbarError('SPB_ERR_STORE_UNAVAILABLE', 'down');

describe('retry()', () => {
  it('retries retriable errors until success and reports each retry', async () => {
    const onRetry = vi.fn();
    let calls = 0;
    const result = await retry(
      async () => {
        calls++;
        if (calls < 3) throw unavailable();
        return 'ok';
      },
      { initialDelayMs: 1, onRetry },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(onRetry).toHaveBeenCalledTimes(2);
    expect(onRetry.mock.calls.map((c) => c[1])).toEqual([1, 2]);
  });

  it('does not retry errors that are not marked retriable', async () => {
    let calls = 0;
    const err = new SporbarError('SPB_ERR_WRONG_EXPECTED_REVISION', 'conflict');
    await expect(
      retry(async () => {
        calls++;
        throw err;
      }),
    ).rejects.toBe(err);
    await expect(retry(async () => Promise.reject(new Error('plain')))).rejects.toThrow('plain');
    expect(calls).toBe(1);
  });

  it('gives up after maxAttempts with the last error', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw Object.assign(new Error(`attempt ${calls}`), { retriable: true });
        },
        { maxAttempts: 4, initialDelayMs: 1 },
      ),
    ).rejects.toThrow('attempt 4');
    expect(calls).toBe(4);
  });

  it('bail(err) stops at once, even for a retriable error', async () => {
    let calls = 0;
    const boom = unavailable();
    await expect(
      retry(async (bail) => {
        calls++;
        bail(boom);
      }),
    ).rejects.toBe(boom);
    expect(calls).toBe(1);
  });

  it('a custom isRetriable decides; an aborted signal stops retrying', async () => {
    let calls = 0;
    const ac = new AbortController();
    await expect(
      retry(
        async () => {
          calls++;
          if (calls === 2) ac.abort();
          throw new Error('flaky');
        },
        { isRetriable: () => true, initialDelayMs: 1, maxAttempts: 10, signal: ac.signal },
      ),
    ).rejects.toThrow('flaky');
    expect(calls).toBe(2);
  });

  it('backs off exponentially with jitter, within the cap', () => {
    const opts = { initialDelayMs: 100, maxDelayMs: 1000, factor: 2 };
    expect(backoffDelay(1, opts, () => 0)).toBe(50);
    expect(backoffDelay(1, opts, () => 1)).toBe(100);
    expect(backoffDelay(3, opts, () => 1)).toBe(400);
    expect(backoffDelay(3, opts, () => 0)).toBe(200);
    expect(backoffDelay(10, opts, () => 1)).toBe(1000);
    expect(backoffDelay(10, opts, () => 0.5)).toBe(750);
  });
});
