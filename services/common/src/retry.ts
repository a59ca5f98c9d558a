/**
 * retry(): exponential backoff with jitter, a cap on the delay, a maximum number of attempts and a
 * bail(err) escape. Only errors marked retriable are retried (SporbarError.retriable, or whatever
 * `isRetriable` says); every other error is rethrown at once.
 */
export interface RetryOptions {
  /** Total attempts including the first one. Default 5. */
  readonly maxAttempts?: number;
  /** Delay before the second attempt, in ms. Default 50. */
  readonly initialDelayMs?: number;
  /** Upper bound of one delay, in ms. Default 2000. */
  readonly maxDelayMs?: number;
  /** Growth factor per attempt. Default 2. */
  readonly factor?: number;
  /** Decides whether an error may be retried. Default: `err.retriable === true`. */
  readonly isRetriable?: (err: unknown) => boolean;
  /** Called before each wait (logging, metrics). */
  readonly onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Aborting stops waiting and rethrows the last error. */
  readonly signal?: AbortSignal;
}

export const isMarkedRetriable = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true;

class Bail {
  constructor(readonly error: unknown) {}
}

/** The delay before attempt `attempt + 1`: exponential, capped, with "equal jitter" (half fixed, half random). */
export function backoffDelay(attempt: number, options: RetryOptions = {}, random: () => number = Math.random): number {
  const initial = options.initialDelayMs ?? 50;
  const cap = options.maxDelayMs ?? 2000;
  const factor = options.factor ?? 2;
  const base = Math.min(cap, initial * factor ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + random() * (base / 2));
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Runs `fn` until it succeeds, it throws a non-retriable error, it calls `bail(err)`, or the
 * attempts are used up (then the last error is thrown).
 */
export async function retry<T>(
  fn: (bail: (err: unknown) => never, attempt: number) => Promise<T> | T,
  options: RetryOptions = {},
): Promise<T> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  const isRetriable = options.isRetriable ?? isMarkedRetriable;
  const bail = (err: unknown): never => {
    throw new Bail(err);
  };
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(bail, attempt);
    } catch (err) {
      if (err instanceof Bail) throw err.error;
      if (attempt >= maxAttempts || !isRetriable(err) || options.signal?.aborted) throw err;
      const delay = backoffDelay(attempt, options);
      options.onRetry?.(err, attempt, delay);
      await sleep(delay, options.signal);
      if (options.signal?.aborted) throw err;
    }
  }
}
